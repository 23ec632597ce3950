import Foundation
public import Hummingbird
import TramInput

/// Errors of the HTTP layer, each rendered as OpenAI's `{"error": {…}}` with vLLM's status.
public enum ServerError: Error, Equatable {
    /// 400: the request is malformed or a value is out of range.
    case badRequest(String, param: String? = nil)
    /// 404: the requested model is not served here.
    case modelNotFound(String)
    /// 401: missing or wrong API key.
    case unauthorized
    /// 404: no route has this path.
    case routeNotFound(method: String, path: String)
    /// 405: the path exists, not with this method.
    case methodNotAllowed(method: String, path: String, allowed: [String])
    /// 503: the waiting queue is full or the engine is not running.
    case unavailable(String)
    /// 500: a bug of ours.
    case internalError(String)

    public var status: HTTPResponse.Status {
        switch self {
        case .badRequest: .badRequest
        case .modelNotFound: .notFound
        case .unauthorized: .unauthorized
        case .routeNotFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .unavailable: .serviceUnavailable
        case .internalError: .internalServerError
        }
    }

    /// OpenAI's error object: message, type, param, code.
    var body: ErrorBody {
        switch self {
        case let .badRequest(m, param): ErrorBody(message: m, type: "BadRequestError", param: param, code: 400)
        case let .modelNotFound(name): ErrorBody(message: "The model `\(name)` does not exist.", type: "NotFoundError", param: "model", code: 404)
        case .unauthorized: ErrorBody(message: "Unauthorized", type: "AuthenticationError", param: nil, code: 401)
        case let .routeNotFound(method, path): ErrorBody(message: "Route \(method) \(path) not found", type: "NotFoundError", param: nil, code: 404)
        case let .methodNotAllowed(method, path, allowed):
            ErrorBody(message: "Method \(method) not allowed on \(path); allowed: \(allowed.joined(separator: ", "))",
                      type: "MethodNotAllowedError", param: nil, code: 405)
        case let .unavailable(m): ErrorBody(message: m, type: "ServiceUnavailableError", param: nil, code: 503)
        case let .internalError(m): ErrorBody(message: m, type: "InternalServerError", param: nil, code: 500)
        }
    }

    struct ErrorBody: Encodable {
        var message: String
        var type: String
        var param: String?
        var code: Int

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(message, forKey: .message)
            try c.encode(type, forKey: .type)
            try c.encode(param, forKey: .param)  // null when absent, as OpenAI sends it
            try c.encode(code, forKey: .code)
        }

        enum CodingKeys: String, CodingKey { case message, type, param, code }
    }

    /// `{"error": {...}}` as JSON bytes.
    var json: Data {
        struct Wrapper: Encodable { var error: ErrorBody }
        return (try? JSONEncoder().encode(Wrapper(error: body))) ?? Data(#"{"error":{"message":"error","type":"InternalServerError","param":null,"code":500}}"#.utf8)
    }
}

extension ServerError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if case let .methodNotAllowed(_, _, allowed) = self { headers[.allow] = allowed.joined(separator: ", ") }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }
}

/// The input processor's refusals are 400s naming their field.
extension InputError: HTTPResponseError {
    public var status: HTTPResponse.Status { .badRequest }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try ServerError.badRequest(message, param: param).response(from: request, context: context)
    }
}
