import Foundation

public import Hummingbird

/// Tram's routes behind one front door: every request's path is put in canonical form before it
/// is routed, unknown paths and methods get OpenAI-shaped 404/405 errors, and the API key is
/// checked on the matched route (the `/v1` group), never by looking at the raw path.
///
/// Why: the key check was `path.hasPrefix("/v1")` on the raw path while Hummingbird's router
/// also routes `//v1/completions` there, so `curl --path-as-is …//v1/completions` answered
/// without a key. Now `//v1/x`, `/./v1/x` and `/a/../v1/x` are `/v1/x` before routing, and
/// encoded separators or dots (`%2F`, `%5C`, `%2E`) are refused with 400.
public struct ServerRouter: HTTPResponderBuilder {
    let router: Router<ServerRequestContext>
    /// Every route's canonical path and its methods, for 404 and 405.
    let routes: [String: Set<HTTPRequest.Method>]

    public func buildResponder() -> FrontDoorResponder {
        FrontDoorResponder(next: router.buildResponder(), routes: routes)
    }
}

public struct FrontDoorResponder: HTTPResponder {
    public typealias Context = ServerRequestContext
    let next: RouterResponder<ServerRequestContext>
    let routes: [String: Set<HTTPRequest.Method>]

    public func respond(to request: Request, context: ServerRequestContext) async throws -> Response {
        do {
            guard let path = Self.canonicalPath(request.uri.path) else {
                throw ServerError.badRequest("the path '\(request.uri.path)' is not valid: encoded separators and '..' above the root are refused")
            }
            guard let methods = routes[path] else { throw ServerError.routeNotFound(method: request.method.rawValue, path: path) }
            guard methods.contains(request.method) else {
                throw ServerError.methodNotAllowed(method: request.method.rawValue, path: path, allowed: methods.map(\.rawValue).sorted())
            }
            var routed = request
            if path != request.uri.path {
                var head = request.head
                head.path = path + (request.uri.query.map { "?" + $0 } ?? "")
                routed = Request(head: head, body: request.body)
            }
            return try await next.respond(to: routed, context: context)
        } catch let error as ServerError {
            return try error.response(from: request, context: context)
        }
    }

    /// The path with empty and `.` segments dropped and `..` applied, or nil when it climbs
    /// above the root or a segment hides a separator or a dot behind percent-encoding.
    static func canonicalPath(_ path: String) -> String? {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment.contains("\\") { return nil }
            if segment.contains("%") {
                let lowered = segment.lowercased()
                if lowered.contains("%2f") || lowered.contains("%5c") || lowered.contains("%2e") || lowered.contains("%00") { return nil }
            }
            switch segment {
            case ".": continue
            case "..":
                if segments.isEmpty { return nil }
                segments.removeLast()
            default: segments.append(segment)
            }
        }
        return "/" + segments.joined(separator: "/")
    }
}
