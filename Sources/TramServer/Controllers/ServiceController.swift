import Hummingbird

/// The service endpoints, open without a key as in vLLM: `GET /health` (503 while draining or
/// when the engine has stopped), `GET /version`, and `GET /metrics` when metrics are kept.
struct ServiceController {
    let server: OpenAIServer

    func addRoutes(to routes: inout RouteTable) {
        routes.add(.get, "/health") { _, _ in
            guard server.isHealthy else {
                throw ServerError.unavailable(server.isDraining ? "the server is shutting down" : "the engine is not running")
            }
            return Response(status: .ok)
        }
        routes.add(.get, "/version") { _, _ in try server.json(["version": "0.1.0"]) }
        if let metrics = server.metrics { routes.add(.get, "/metrics") { _, _ in server.prometheus(metrics) } }
    }
}
