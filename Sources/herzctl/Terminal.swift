import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Output helpers shared by the subcommands: stdout for answers, stderr for problems, and the
/// exit codes documented on `HerzCtl`.
enum Terminal {
    /// Writes `text` and a newline (unless it already ends with one) to stdout.
    static func out(_ text: String) {
        print(text.hasSuffix("\n") ? String(text.dropLast()) : text)
    }

    /// Writes `text` and a newline (unless it already ends with one) to stderr.
    static func err(_ text: String) {
        fputs(text.hasSuffix("\n") ? text : text + "\n", stderr)
    }

    /// Prints the error's message and returns the exit code for it (2: unreachable or unusable
    /// admin API).
    static func fail(_ error: AdminClientError) -> ExitCode {
        err(error.message)
        return ExitCode(2)
    }

    /// Prints an unexpected HTTP answer and returns exit code 1.
    static func fail(_ request: String, _ response: AdminResponse) -> ExitCode {
        let body = response.body.trimmingTrailingNewlines
        err("herzctl: \(request) answered \(response.status)\(body.isEmpty ? "" : ": " + body)")
        return ExitCode(1)
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = Substring(self)
        while s.last == "\n" || s.last == "\r" { s = s.dropLast() }
        return String(s)
    }
}
