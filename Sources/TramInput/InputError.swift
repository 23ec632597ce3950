package import TramEngine

/// A request body the input processor refuses: the message for the client and the field it
/// names (OpenAI's `param`). The HTTP layer answers it with a 400.
package struct InputError: Error, Equatable, CustomStringConvertible {
    package var message: String
    package var param: String?

    package init(_ message: String, param: String? = nil) {
        self.message = message
        self.param = param
    }

    package var description: String { message }

    /// An engine refusal of a request's parameters, with the field it names when it names one.
    package init(_ error: EngineError) {
        if case let .invalidField(message, param) = error { self.init(message, param: param) } else { self.init(error.description) }
    }
}
