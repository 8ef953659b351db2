/// The paired tests behind one table of the report (one metric per task). Each pruned result is
/// compared with the dense model and with the best other method at its sparsity, column by column:
/// a perplexity by the paired bootstrap over windows, an accuracy by McNemar's exact test on the
/// documents, the average accuracy by the paired bootstrap over documents within each task. The
/// distinct comparisons of the table form one family for Holm's correction. Bold marks the
/// values not significantly worse than the best of their sparsity, and only where at least one
/// value there is significantly worse (all tied: none bold). Rows of several seeds are not tested.
struct SignificanceTable {
    static let alpha = 0.05
    /// The report's bootstrap (its seeded resamples keep the report's bytes the same).
    static let bootstrap = PairedBootstrap()

    /// Two runs compared in one column (`a` < `b`).
    struct Comparison: Hashable, Comparable {
        let column: Int
        let a: Int64
        let b: Int64

        init(column: Int, _ x: Int64, _ y: Int64) {
            self.column = column
            a = min(x, y)
            b = max(x, y)
        }

        static func < (l: Comparison, r: Comparison) -> Bool { (l.column, l.a, l.b) < (r.column, r.a, r.b) }
    }

    /// The Holm-adjusted p-values of one cell's comparisons (nil where not tested).
    struct Cell {
        var againstDense: Double?
        var againstBest: Double?
    }

    /// By row index (of `SweepResults.rows`), then column.
    private(set) var cells: [[Cell]] = []
    private(set) var bold: [[Bool]] = []
    /// The size of the Holm family: the distinct comparisons tested.
    private(set) var comparisons = 0

    /// `values(row)`: the row's value per column (the tasks, then the average), as the table shows them.
    init(results: SweepResults, tasks: [String], metric: (String) -> String, values: (SweepResults.Row) -> [Double?]) {
        let rows = results.rows
        let table = rows.map(values)
        let columns = tasks.count + 1
        let lowerIsBetter = tasks.map(SweepResults.isPerplexity) + [false]
        var raw: [Comparison: Double] = [:]

        func test(_ column: Int, _ before: Int64, _ now: Int64) -> Comparison? {
            let key = Comparison(column: column, before, now)
            if raw[key] != nil { return key }
            guard let p = Self.pValue(results: results, tasks: tasks, metric: metric, column: column, key.a, key.b) else { return nil }
            raw[key] = p
            return key
        }

        /// The index of the best pruned row at `sparsity` in `column` other than `excluded` (first in row order on a tie).
        func best(_ column: Int, sparsity: Double, excluding excluded: Int?) -> Int? {
            var chosen: Int?
            for (i, row) in rows.enumerated() where !row.isDense && row.sparsity == sparsity && i != excluded {
                guard let v = table[i][column] else { continue }
                if let c = chosen, let b = table[c][column], lowerIsBetter[column] ? v >= b : v <= b { continue }
                chosen = i
            }
            return chosen
        }

        let denseRun = results.dense?.runID
        var keys = [[(dense: Comparison?, best: Comparison?)]](repeating: Array(repeating: (nil, nil), count: columns), count: rows.count)
        for (i, row) in rows.enumerated() where !row.isDense {
            guard let run = row.runID else { continue }
            for column in 0..<columns where table[i][column] != nil {
                if let denseRun { keys[i][column].dense = test(column, denseRun, run) }
                if let other = best(column, sparsity: row.sparsity, excluding: i), let otherRun = rows[other].runID {
                    keys[i][column].best = test(column, otherRun, run)
                }
            }
        }
        let family = raw.keys.sorted()
        let adjusted = Dictionary(uniqueKeysWithValues: zip(family, HolmCorrection.adjusted(family.map { raw[$0]! })))
        comparisons = family.count
        cells = keys.map { $0.map { Cell(againstDense: $0.dense.flatMap { adjusted[$0] }, againstBest: $0.best.flatMap { adjusted[$0] }) } }

        bold = rows.map { _ in Array(repeating: false, count: columns) }
        for sparsity in Set(rows.filter { !$0.isDense }.map(\.sparsity)) {
            for column in 0..<columns {
                guard let top = best(column, sparsity: sparsity, excluding: nil), let topValue = table[top][column] else { continue }
                let group = rows.indices.filter { !rows[$0].isDense && rows[$0].sparsity == sparsity && table[$0][column] != nil }
                let worse = group.filter { i in
                    guard table[i][column] != topValue, let a = rows[i].runID, let b = rows[top].runID,
                          let p = adjusted[Comparison(column: column, a, b)] else { return false }
                    return p <= Self.alpha
                }
                guard !worse.isEmpty else { continue }
                for i in group where !worse.contains(i) { bold[i][column] = true }
            }
        }
    }

    func isSignificant(_ p: Double?) -> Bool { p.map { $0 <= Self.alpha } ?? false }

    /// The p-value, before any correction, of the paired test of runs `a` and `b` in `column` (the
    /// tasks, then the average): nil where their evidence is missing or does not pair up.
    static func pValue(results: SweepResults, tasks: [String], metric: (String) -> String, column: Int,
                       _ a: Int64, _ b: Int64) -> Double? {
        if column == tasks.count {
            guard let x = results.correctByTask(runID: a, metric: metric), let y = results.correctByTask(runID: b, metric: metric),
                  x.map(\.count) == y.map(\.count) else { return nil }
            return Self.bootstrap.averageAccuracyPValue(before: x, now: y)
        }
        let task = tasks[column]
        if SweepResults.isPerplexity(task) {
            guard let x = results.perplexityWindows(runID: a, task: task), let y = results.perplexityWindows(runID: b, task: task),
                  x.count == y.count else { return nil }
            return Self.bootstrap.perplexityPValue(before: x, now: y)
        }
        guard let x = results.correct(runID: a, task: task, metric: metric(task)), let y = results.correct(runID: b, task: task, metric: metric(task)),
              x.count == y.count else { return nil }
        return McNemarTest.pValue(before: x, now: y)
    }
}
