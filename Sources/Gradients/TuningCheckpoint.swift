import Foundation
import Runtime

/// A tune's state on disk: `checkpoint.json` (step, options, adapter layout, loss curves, best
/// step and loss) and `checkpoint-STEP.bin` (adapters, AdamW moments and best adapters as
/// little-endian Float32). Both are written whole or not at all (`AtomicFile`), the values first
/// and the JSON, which names them, last, so an interrupted or failed save (a full disk) leaves
/// the previous checkpoint whole.
public enum TuningCheckpoint {
    public static let metadataFile = "checkpoint.json"

    struct Metadata: Codable {
        var step: Int
        var valuesFile: String
        var options: TuningOptions
        var rank: Int
        var alpha: Float
        var adapters: [LoRAAdapter]
        var optimizerSteps: Int
        var parameters: Int
        var bestStep: Int?
        var bestLoss: Double?
        var trainingLosses: [[Double]]
        var heldOutLosses: [[Double]]
    }

    public static func exists(in directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(metadataFile).path)
    }

    public static func write(_ state: TuningState, options: TuningOptions, to directory: URL) throws {
        try AtomicFile.createDirectory(directory)
        let previous = try? JSONDecoder().decode(Metadata.self, from: Data(contentsOf: directory.appendingPathComponent(metadataFile)))
        let valuesFile = "checkpoint-\(state.step).bin"
        let metadata = Metadata(step: state.step, valuesFile: valuesFile, options: options, rank: state.lora.rank, alpha: state.lora.alpha,
                                adapters: state.lora.adapters, optimizerSteps: state.optimizer.steps,
                                parameters: state.lora.values.count, bestStep: state.best?.step, bestLoss: state.best?.loss,
                                trainingLosses: state.trainingLosses.map { [Double($0.step), $0.loss] },
                                heldOutLosses: state.heldOutLosses.map { [Double($0.step), $0.loss] })
        var values = state.lora.values + state.optimizer.m + state.optimizer.v
        if let best = state.best { values += best.values }
        let bytes = values.withUnsafeBufferPointer { Data(buffer: $0) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(metadata)
        try AtomicFile.write(bytes, to: directory.appendingPathComponent(valuesFile))
        try AtomicFile.write(json, to: directory.appendingPathComponent(metadataFile))
        if let old = previous?.valuesFile, old != valuesFile {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(old))
        }
    }

    /// The saved state; its options must equal `options` (the same tune), else an error saying which differ.
    public static func read(from directory: URL, options: TuningOptions) throws -> TuningState {
        let metadataURL = directory.appendingPathComponent(metadataFile)
        let metadata: Metadata
        do {
            metadata = try JSONDecoder().decode(Metadata.self, from: Data(contentsOf: metadataURL))
        } catch {
            throw TuningError("\(metadataURL.path): not a readable tune checkpoint (\(error))")
        }
        guard metadata.options == options else {
            throw TuningError("\(metadataURL.path): the checkpoint is of a tune with other options (\(describe(metadata.options, options))); run without --resume to start over")
        }
        func refuse(_ problem: String) -> TuningError { TuningError("\(metadataURL.path): not a readable tune checkpoint (\(problem))") }
        guard !metadata.valuesFile.contains("/"), metadata.valuesFile != "..", metadata.valuesFile != "." else {
            throw refuse("valuesFile '\(metadata.valuesFile)' is not a file name")
        }
        guard metadata.rank == options.rank, metadata.alpha == options.alpha else {
            throw refuse("rank \(metadata.rank) and alpha \(metadata.alpha) differ from its options' \(options.rank) and \(options.alpha)")
        }
        guard (metadata.bestStep == nil) == (metadata.bestLoss == nil) else { throw refuse("bestStep and bestLoss must be given together") }
        for curve in [metadata.trainingLosses, metadata.heldOutLosses] {
            for point in curve {
                guard point.count == 2, let step = Int(exactly: point[0]), step >= 0 else {
                    throw refuse("a loss curve point \(point) is not [step, loss]")
                }
            }
        }
        let valuesURL = directory.appendingPathComponent(metadata.valuesFile)
        guard let data = FileManager.default.contents(atPath: valuesURL.path) else {
            throw TuningError("\(valuesURL.path): missing (named by \(metadataURL.path))")
        }
        let n = metadata.parameters, arrays = metadata.bestStep == nil ? 3 : 4
        guard n >= 0, n <= data.count / 4 / arrays, data.count == arrays * n * 4 else {
            throw TuningError("\(valuesURL.path): \(data.count) bytes, expected \(arrays) arrays of \(n) parameters (4 bytes each)")
        }
        let floats = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let lora = LoRA(rank: metadata.rank, alpha: metadata.alpha, adapters: metadata.adapters, values: Array(floats[0..<n]))
        var optimizer = AdamW(parameters: n, weightDecay: options.weightDecay)
        optimizer.m = Array(floats[n..<(2 * n)])
        optimizer.v = Array(floats[(2 * n)..<(3 * n)])
        optimizer.steps = metadata.optimizerSteps
        let best = metadata.bestStep.map { (Array(floats[(3 * n)..<(4 * n)]), metadata.bestLoss!, $0) }
        return TuningState(step: metadata.step, lora: lora, optimizer: optimizer, best: best,
                           trainingLosses: metadata.trainingLosses.map { (Int($0[0]), $0[1]) },
                           heldOutLosses: metadata.heldOutLosses.map { (Int($0[0]), $0[1]) })
    }

    private static func describe(_ saved: TuningOptions, _ now: TuningOptions) -> String {
        let a = Mirror(reflecting: saved).children, b = Mirror(reflecting: now).children
        return zip(a, b).compactMap { x, y in
            "\(x.value)" == "\(y.value)" ? nil : "\(x.label ?? "?") \(x.value) there, \(y.value) now"
        }.joined(separator: "; ")
    }
}
