import Foundation

/// Where the server under test listens, from `--base-url`: `http://host[:port][/prefix]`.
/// Endpoint paths are appended to the prefix, as vLLM appends `--endpoint` to `--base-url`.
/// Plain HTTP only: the benchmark targets servers on this machine or a private network, and TLS
/// would pull BoringSSL into every build.
package struct ServerAddress: Sendable, Equatable, CustomStringConvertible {
    package var host: String
    package var port: Int
    /// The path before every endpoint, without a trailing "/" ("" for none).
    package var pathPrefix: String

    package init(host: String, port: Int, pathPrefix: String = "") {
        self.host = host
        self.port = port
        self.pathPrefix = pathPrefix
    }

    package init(baseURL: String) throws(BenchError) {
        guard let components = URLComponents(string: baseURL), let scheme = components.scheme?.lowercased() else {
            throw .invalidBaseURL(baseURL, reason: "expected http://host[:port][/path]")
        }
        guard scheme == "http" else {
            throw .invalidBaseURL(baseURL, reason: scheme == "https" ? "https is not supported; give an http:// URL" : "the scheme must be http")
        }
        guard var host = components.host, !host.isEmpty else { throw .invalidBaseURL(baseURL, reason: "no host") }
        // "[::1]" names an IPv6 address; the socket layer wants it bare.
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = components.port ?? 80
        guard (1...65535).contains(port) else { throw .invalidBaseURL(baseURL, reason: "port \(port) is out of range") }
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        self.init(host: host, port: port, pathPrefix: path)
    }

    /// The request target for `endpoint` ("/v1/completions" → "/prefix/v1/completions").
    package func path(_ endpoint: String) -> String {
        pathPrefix + (endpoint.hasPrefix("/") ? endpoint : "/" + endpoint)
    }

    /// The `Host` header's value.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }

    package var description: String { "http://\(hostHeader)\(pathPrefix)" }

    package func url(_ endpoint: String) -> String { "http://\(hostHeader)\(path(endpoint))" }
}
