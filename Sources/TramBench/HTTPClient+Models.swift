import Foundation
import NIOHTTP1

extension HTTPClient {
    /// The first model of `GET /v1/models` (vLLM's default `--model`): its `id`, and its `root`
    /// when the server names one (Tram and vLLM give the model's path there).
    package func firstModel() async throws -> (id: String, root: String?) {
        let url = address.url("/v1/models")
        let (status, body) = try await collect(method: .GET, endpoint: "/v1/models")
        guard status == 200 else { throw BenchError.badResponse(url: url, status: status, body: RequestSender.errorMessage(body)) }
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let first = (object["data"] as? [[String: Any]])?.first, let id = first["id"] as? String else {
            throw BenchError.badResponse(url: url, status: status, body: "no model in the answer: \(String(decoding: body.prefix(300), as: UTF8.self))")
        }
        return (id, first["root"] as? String)
    }
}
