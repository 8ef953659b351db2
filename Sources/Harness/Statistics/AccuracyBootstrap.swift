extension PairedBootstrap {
    /// The mean over tasks of each task's share of right answers at `indices` (one list per task).
    static func averageAccuracy(_ correct: [[Bool]], _ indices: [[Int]]) -> Double {
        zip(correct, indices).map { answers, picked in
            Double(picked.count { answers[$0] }) / Double(picked.count)
        }.reduce(0, +) / Double(correct.count)
    }

    /// The p-value of "two results have the same average accuracy over the same tasks": documents
    /// resampled jointly within each task (`before[t]` and `now[t]`: task t's right answers).
    public func averageAccuracyPValue(before: [[Bool]], now: [[Bool]]) -> Double {
        precondition(before.map(\.count) == now.map(\.count) && !before.isEmpty)
        let all = before.map { Array($0.indices) }
        return pValue(observed: Self.averageAccuracy(now, all) - Self.averageAccuracy(before, all), strata: before.map(\.count)) {
            Self.averageAccuracy(now, $0) - Self.averageAccuracy(before, $0)
        }
    }

    /// The 95% interval of one result's average accuracy, documents resampled within each task.
    public func averageAccuracyInterval(_ correct: [[Bool]]) -> ClosedRange<Double>? {
        interval(strata: correct.map(\.count)) { Self.averageAccuracy(correct, $0) }
    }
}
