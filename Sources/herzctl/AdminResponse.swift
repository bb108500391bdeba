/// A complete answer from the admin API: status code and body text.
struct AdminResponse: Equatable {
    var status: Int
    var body: String

    var isSuccess: Bool { (200..<300).contains(status) }
}
