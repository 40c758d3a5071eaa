"""Where each key of an alliance file sits (line numbers), and keys given twice."""

from __future__ import annotations

import yaml

Problem = tuple[tuple, str]


class SourceMap:
    """Line numbers of the key paths of one YAML document, from its composed node tree."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.starts: dict[tuple, int] = {}
        self.ends: dict[tuple, int] = {}
        self.duplicates: list[Problem] = []
        self._walk(root)

    def _walk(self, root: yaml.Node | None) -> None:
        seen: set[int] = set()  # aliases point at shared nodes: visit each once
        stack: list[tuple[yaml.Node, tuple]] = [(root, ())] if root is not None else []
        while stack:
            node, path = stack.pop()
            self.starts.setdefault(path, node.start_mark.line + 1)
            self.ends.setdefault(path, node.end_mark.line + 1)
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, yaml.SequenceNode):
                stack += [(item, (*path, i)) for i, item in enumerate(node.value)]
            elif isinstance(node, yaml.MappingNode):
                stack += self._mapping_children(node, path)

    def _mapping_children(self, node: yaml.MappingNode, path: tuple) -> list:
        children, first_line = [], {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            line = key_node.start_mark.line + 1
            if key in first_line and key != "<<":
                self.duplicates.append(
                    (
                        (*path, key),
                        f"the key {key!r} is given twice in this mapping "
                        f"(lines {first_line[key]} and {line}); keep one",
                    )
                )
            first_line.setdefault(key, line)
            self.starts.setdefault((*path, key), line)
            children.append((value_node, (*path, key)))
        return children

    def _nearest(self, path: tuple) -> tuple:
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.starts:
                return path[:cut]
        return ()

    def line_of(self, path: tuple) -> int | None:
        """Return the line of a key path, or of its nearest ancestor present in the file."""
        return self.starts.get(self._nearest(path))

    def sort_line(self, path: tuple) -> int:
        """Return where a problem sorts: a key absent from the file sorts after its siblings."""
        nearest = self._nearest(path)
        table = self.starts if nearest == path else self.ends
        return table.get(nearest, 0)

    def first(self, problems: list[Problem]) -> Problem | None:
        """Return the problem that comes first in the file (ties: the first listed)."""
        if not problems:
            return None
        ordered = sorted(enumerate(problems), key=lambda p: (self.sort_line(p[1][0]), p[0]))
        return ordered[0][1]
