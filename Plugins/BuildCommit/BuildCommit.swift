import Foundation
import PackagePlugin

/// Before every build of the target that uses it, writes `BuildCommit.swift` with the git commit
/// the package's sources are at (nil outside a git checkout), so that `BuildInfo.commit` names the
/// commit a binary was built from, wherever and whenever it runs. The file is only rewritten when
/// the commit changes, so an unchanged commit recompiles nothing.
@main
struct BuildCommit: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("generated")
        let script = """
            mkdir -p "$2" || exit 1
            commit=$(git -C "$1" rev-parse HEAD 2>/dev/null)
            if [ -n "$commit" ]; then value="\\"$commit\\""; else value=nil; fi
            printf '%s\\n' '// Written by the BuildCommit plugin before each build: the commit the sources were built from.' \\
                "let buildCommit: String? = $value" > "$2/BuildCommit.swift.new" || exit 1
            if cmp -s "$2/BuildCommit.swift.new" "$2/BuildCommit.swift"; then rm "$2/BuildCommit.swift.new"; else mv "$2/BuildCommit.swift.new" "$2/BuildCommit.swift"; fi
            """
        return [.prebuildCommand(displayName: "BuildCommit: the git commit of the sources",
                                 executable: URL(fileURLWithPath: "/bin/sh"),
                                 arguments: ["-c", script, "sh", context.package.directoryURL.path, output.path],
                                 outputFilesDirectory: output)]
    }
}
