extension HFConfig {
    /// config.json's `bip` section, written for a pruned model: every layer's shapes (which a
    /// plain HF config cannot hold, the layers differing) and how the model was made.
    public struct BIPSection: Codable, Sendable, Equatable {
        /// One layer's shapes and biases.
        public struct Layer: Sendable, Equatable {
            public var queryHeads: Int { kvHeadOfQueryHead.count }
            public var kvHeads: Int
            /// For each query head, the KV head it reads.
            public var kvHeadOfQueryHead: [Int]
            public var ffnWidth: Int
            /// The projections that have a bias, in checkpoint order.
            public var biases: [HFTensorName.Projection]

            public init(kvHeads: Int, kvHeadOfQueryHead: [Int], ffnWidth: Int, biases: [HFTensorName.Projection]) {
                self.kvHeads = kvHeads
                self.kvHeadOfQueryHead = kvHeadOfQueryHead
                self.ffnWidth = ffnWidth
                self.biases = biases
            }

            /// The shapes of `layer`.
            public init(_ layer: DecoderLayer) {
                self.init(kvHeads: layer.kvHeads, kvHeadOfQueryHead: layer.kvHeadOfQueryHead, ffnWidth: layer.ffnWidth,
                          biases: HFTensorName.Projection.allCases.filter { $0.linear(of: layer).bias != nil })
            }
        }

        public static let formatVersion = 1

        public var formatVersion: Int
        public var layers: [Layer]
        /// The model's parameter count.
        public var parameters: Int
        /// How q/k rows are laid out in the weights (`rotate_half`, HF's).
        public var ropeLayout: String
        public var provenance: PruningProvenance

        /// The section of `model`, pruned as `provenance` says.
        public init(_ model: LlamaModel, provenance: PruningProvenance) {
            formatVersion = Self.formatVersion
            layers = model.layers.map(Layer.init)
            parameters = model.parameterCount
            ropeLayout = "rotate_half"
            self.provenance = provenance
        }

        enum CodingKeys: String, CodingKey {
            case formatVersion = "format_version", layers, parameters, ropeLayout = "rope_layout"
            case method, sparsityRequested = "sparsity_requested", sparsityReached = "sparsity_reached", allocation
            case layerRange = "layer_range", calibration, calibrationIsTestData = "calibration_is_test_data", seed
            case sourceModel = "source_model", sourceSHA256 = "source_sha256"
            case statistics, biasCompensation = "bias_compensation"
        }

        /// A layer's entry in the `layers` list: its shapes, and for a pruned layer the units kept.
        enum LayerKeys: String, CodingKey {
            case index, queryHeads = "query_heads", kvHeads = "kv_heads", kvHeadOfQueryHead = "kv_head_of_query_head"
            case ffn, biases, pruned, keptQueryHeads = "source_query_heads_kept", keptFFNChannels = "source_ffn_channels_kept"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            formatVersion = try c.decode(Int.self, forKey: .formatVersion)
            parameters = try c.decode(Int.self, forKey: .parameters)
            ropeLayout = try c.decode(String.self, forKey: .ropeLayout)
            var list = try c.nestedUnkeyedContainer(forKey: .layers)
            var layers: [Layer] = [], kept: [Int: PruningProvenance.KeptUnits] = [:]
            while !list.isAtEnd {
                let entry = try list.nestedContainer(keyedBy: LayerKeys.self)
                let layer = Layer(kvHeads: try entry.decode(Int.self, forKey: .kvHeads),
                                  kvHeadOfQueryHead: try entry.decode([Int].self, forKey: .kvHeadOfQueryHead),
                                  ffnWidth: try entry.decode(Int.self, forKey: .ffn),
                                  biases: try entry.decode([HFTensorName.Projection].self, forKey: .biases))
                guard layer.kvHeads > 0, layer.ffnWidth > 0, layer.kvHeadOfQueryHead.allSatisfy({ (0..<layer.kvHeads).contains($0) }) else {
                    throw Problem("bip.layers[\(layers.count)] lacks a valid kv_head_of_query_head, kv_heads or ffn")
                }
                if try entry.decode(Bool.self, forKey: .pruned) {
                    kept[layers.count] = .init(queryHeads: try entry.decode([Int].self, forKey: .keptQueryHeads),
                                               ffnChannels: try entry.decode([Int].self, forKey: .keptFFNChannels))
                }
                layers.append(layer)
            }
            self.layers = layers
            let range = try c.decode(String.self, forKey: .layerRange).split(separator: "..<").compactMap { Int($0) }
            guard range.count == 2, range[0] <= range[1] else {
                throw DecodingError.dataCorruptedError(forKey: .layerRange, in: c, debugDescription: "not a range such as 4..<28")
            }
            let calibration = try c.decodeIfPresent(String.self, forKey: .calibration)
            provenance = PruningProvenance(
                method: try c.decode(String.self, forKey: .method),
                sparsityRequested: try c.decode(Double.self, forKey: .sparsityRequested),
                sparsityReached: try c.decode(Double.self, forKey: .sparsityReached),
                allocation: try c.decode(String.self, forKey: .allocation), layers: range[0]..<range[1],
                calibration: calibration,
                calibrationIsTestData: calibration == nil ? false : try c.decode(Bool.self, forKey: .calibrationIsTestData),
                seed: try c.decode(UInt64.self, forKey: .seed), sourceModel: try c.decode(String.self, forKey: .sourceModel),
                sourceSHA256: try c.decode(String.self, forKey: .sourceSHA256), kept: kept,
                statistics: try c.decodeIfPresent(String.self, forKey: .statistics),
                biasCompensation: try c.decodeIfPresent(Bool.self, forKey: .biasCompensation))
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(formatVersion, forKey: .formatVersion)
            try c.encode(parameters, forKey: .parameters)
            try c.encode(ropeLayout, forKey: .ropeLayout)
            var list = c.nestedUnkeyedContainer(forKey: .layers)
            for (l, layer) in layers.enumerated() {
                var entry = list.nestedContainer(keyedBy: LayerKeys.self)
                try entry.encode(l, forKey: .index)
                try entry.encode(layer.queryHeads, forKey: .queryHeads)
                try entry.encode(layer.kvHeads, forKey: .kvHeads)
                try entry.encode(layer.kvHeadOfQueryHead, forKey: .kvHeadOfQueryHead)
                try entry.encode(layer.ffnWidth, forKey: .ffn)
                try entry.encode(layer.biases, forKey: .biases)
                let kept = provenance.kept[l]
                try entry.encode(kept != nil, forKey: .pruned)
                try entry.encodeIfPresent(kept?.queryHeads, forKey: .keptQueryHeads)
                try entry.encodeIfPresent(kept?.ffnChannels, forKey: .keptFFNChannels)
            }
            let p = provenance
            try c.encode(p.method, forKey: .method)
            try c.encode(p.sparsityRequested, forKey: .sparsityRequested)
            try c.encode(p.sparsityReached, forKey: .sparsityReached)
            try c.encode(p.allocation, forKey: .allocation)
            try c.encodeIfPresent(p.statistics, forKey: .statistics)
            try c.encodeIfPresent(p.biasCompensation, forKey: .biasCompensation)
            try c.encode("\(p.layers.lowerBound)..<\(p.layers.upperBound)", forKey: .layerRange)
            if let calibration = p.calibration {
                try c.encode(calibration, forKey: .calibration)
                try c.encode(p.calibrationIsTestData, forKey: .calibrationIsTestData)
            }
            try c.encode(p.seed, forKey: .seed)
            try c.encode(p.sourceModel, forKey: .sourceModel)
            try c.encode(p.sourceSHA256, forKey: .sourceSHA256)
        }
    }
}
