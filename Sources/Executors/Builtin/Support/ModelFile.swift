import Foundation

/// A model that a training builtin writes and a prediction builtin reads.
protocol StoredModel: Codable {
    /// The name of the format, the file's `format` field, e.g. "cloister-logistic-regression".
    static var format: String { get }
    /// What is inconsistent in a decoded model (sizes, indices), or nil if it is sound.
    var problem: String? { get }
}

/// Model files: pretty-printed JSON `{"format": "<format>", "model": {…}}`, keys in snake case,
/// so that a data owner can read what was trained on their data.
enum ModelFile {
    private struct Envelope<Model: StoredModel>: Codable {
        let format: String
        let model: Model
    }

    private struct FormatProbe: Decodable {
        let format: String
    }

    /// Writes `model` to `output` and closes it.
    static func write<Model: StoredModel>(_ model: Model, to output: FunctionOutput) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try output.write(Array(try encoder.encode(Envelope(format: Model.format, model: model))))
        try output.write("\n")
        try output.close()
    }

    /// Reads a whole model file of `Model`'s format.
    static func read<Model: StoredModel>(_: Model.Type, from input: FunctionInput) throws(ExecutorError) -> Model {
        let bytes = Data(try input.readAll())
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let probe = try? decoder.decode(FormatProbe.self, from: bytes), probe.format == Model.format else {
            throw .badInput(name: input.name, line: nil, reason: "not a \(Model.format) model file")
        }
        let model: Model
        do {
            model = try decoder.decode(Envelope<Model>.self, from: bytes).model
        } catch {
            throw .badInput(name: input.name, line: nil, reason: "malformed \(Model.format) model")
        }
        if let problem = model.problem {
            throw .badInput(name: input.name, line: nil, reason: "malformed \(Model.format) model: \(problem)")
        }
        return model
    }
}
