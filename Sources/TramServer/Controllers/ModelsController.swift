import Foundation
import TramInput
import Hummingbird
import TramModels

/// `GET /v1/models`: the served model names, with `max_model_len`.
struct ModelsController {
    let server: OpenAIServer

    func addRoutes(to routes: inout RouteTable) {
        routes.add(.get, "models", v1: true) { _, _ in try server.models() }
    }
}

extension OpenAIServer {
    func models() throws -> Response {
        struct Model: Encodable {
            var id: String
            var object = "model"
            var created: Int
            var owned_by = "tram"
            var root: String
            var max_model_len: Int
        }
        struct List: Encodable {
            var object = "list"
            var data: [Model]
        }
        let names = configuration.servedModelNames.isEmpty ? [model.name] : configuration.servedModelNames
        return try json(List(data: names.map { Model(id: $0, created: created, root: model.path, max_model_len: maxModelLen) }))
    }
}
