import Hummingbird

/// Where controllers register their routes (`addRoutes(to:)`): the router, its `/v1` group
/// (which carries the API key check when keys are configured), and the table of paths and
/// methods the front door answers 404 and 405 from.
struct RouteTable {
    let router: Router<ServerRequestContext>
    let v1: RouterGroup<ServerRequestContext>
    private(set) var methods: [String: Set<HTTPRequest.Method>] = [:]

    init(apiKeys: [String]) {
        router = Router(context: ServerRequestContext.self)
        v1 = router.group("v1")
        if !apiKeys.isEmpty { v1.add(middleware: AuthMiddleware(keys: apiKeys)) }
    }

    /// Adds a route: `path` under `/v1` when `v1` (relative, e.g. "models"), else absolute.
    mutating func add(_ method: HTTPRequest.Method, _ path: String, v1 inV1: Bool = false,
                      _ handler: @escaping @Sendable (Request, ServerRequestContext) async throws -> Response) {
        if inV1 {
            v1.on(RouterPath(path), method: method, use: handler)
            methods["/v1/" + path, default: []].insert(method)
        } else {
            router.on(RouterPath(path), method: method, use: handler)
            methods[path, default: []].insert(method)
        }
    }
}
