#!/usr/bin/env python3
"""The swiftc arguments that link a fuzz target against MODULE (scripts/fuzz.sh, issue 17).

    fuzz-link-args.py MANIFEST MODULE

MANIFEST is the build's llbuild manifest (.build-fuzz/release.yaml), which SwiftPM wrote for
`swift build --target MODULE`. Prints, one a line: the clang flags MODULE was compiled with
(`-Xcc -fmodule-map-file=…`, `-Xcc -I…`, `-I…`: what importing it needs), then the object files
of MODULE and of every module it depends on, Swift and C (swift-nio's and swift-crypto's C
modules included), then the libraries the package's products link (`-l…`).
"""
import json
import sys


def commands(manifest):
    """{command name: {field: value}} for the manifest's commands (the fields that are JSON lists)."""
    found, name = {}, None
    for line in open(manifest):
        if line.startswith('  "') and line.rstrip().endswith('":'):
            name = line.strip()[1:-2]
            found[name] = {}
        elif name and line.startswith('    ') and ': [' in line:
            field, value = line.strip().split(': ', 1)
            found[name][field] = json.loads(value)
    return found


def module_of(path, suffix):
    """The module a dependency path names: `…/Modules/NAME.swiftmodule`, `…/NAME.build/module.modulemap`,
    `…/Sources/NAME/include/module.modulemap` or `…/Sources/NAME/module.modulemap`."""
    parts = path.split('/')
    if path.endswith('.swiftmodule'):
        return parts[-1][:-len('.swiftmodule')]
    if parts[-2].endswith('.build'):
        return parts[-2][:-len('.build')]
    return parts[-3] if parts[-2] == 'include' else parts[-2]


def main(manifest, top):
    found = commands(manifest)
    suffix = next(name[len('C.' + top):] for name in found if name.startswith('C.' + top + '-'))
    compile_args = found['C.' + top + suffix]['args']

    def dependencies(module):
        command = found.get('C.' + module + suffix)
        if command is None:  # a C module: its dependencies are in the module maps of the Swift ones
            return []
        args, names = command['args'], []
        names += [module_of(path, suffix) for path in command.get('inputs', []) if path.endswith('.swiftmodule')]
        names += [module_of(arg.split('=', 1)[1], suffix) for arg in args if arg.startswith('-fmodule-map-file=')]
        return names

    closure, pending = [], [top]
    while pending:
        module = pending.pop()
        if module in closure:
            continue
        closure.append(module)
        pending += dependencies(module)

    flags, index = [], 0
    while index < len(compile_args):
        arg = compile_args[index]
        if arg in ('-Xcc', '-I'):
            flags += compile_args[index:index + 2]
            index += 2
            continue
        if arg.startswith('-I'):
            flags.append(arg)
        index += 1
    objects = [path for module in sorted(closure)
               for path in found.get('<' + module + suffix + '>', {}).get('inputs', []) if path.endswith('.o')]
    libraries = sorted({arg for command in found.values() for arg in command.get('args', [])
                        if arg.startswith('-l')})
    print('\n'.join(flags + objects + libraries))


if __name__ == '__main__':
    main(*sys.argv[1:])
