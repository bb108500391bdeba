import Foundation

extension ConfigDecodingContext {
    /// The path a file named in the config refers to. A relative path is taken from the YAML
    /// file's directory, so a config and the files it names can move together; the built-in
    /// config (`<built-in>`) resolves against the current directory.
    func resolvePath(_ file: String) -> String {
        guard !file.hasPrefix("/"), source.hasPrefix("/") || source.contains("/") else { return file }
        let directory = (source as NSString).deletingLastPathComponent
        return directory.isEmpty ? file : (directory as NSString).appendingPathComponent(file)
    }
}
