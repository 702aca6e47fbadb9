"""Load YAML into dicts and lists that remember the line each item came from."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import yaml

from .errors import Collector


class LineDict(dict):
    """A mapping that knows its own line and the line of each key."""

    line: int = 0
    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A sequence that knows its own line and the line of each item."""

    line: int = 0
    item_lines: list

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


class _Loader(yaml.SafeLoader):
    collector: Collector | None = None


def _mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in result and loader.collector is not None:
            loader.collector.add("duplicate_key", line, key=key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def load(path: Path, collector: Collector):
    """Return the file's data with line numbers, or None after reporting why it cannot be read."""
    if not path.is_file():
        collector.add("file_missing", None, file=collector.file)
        return None
    loader = _Loader(path.read_text(encoding="utf-8"))
    loader.collector = collector
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = (exc.problem or str(exc)).strip()
        collector.add("yaml_syntax", mark.line + 1 if mark else None, detail=detail)
        return None
    finally:
        loader.dispose()


def line_at(root, path) -> int | None:
    """Return the line of the deepest item along `path` that has one."""
    line = getattr(root, "line", None)
    node = root
    for step in path:
        in_dict = isinstance(node, LineDict) and step in node
        in_list = isinstance(node, LineList) and isinstance(step, int) and step < len(node)
        if not (in_dict or in_list):
            break
        line = node.line_of(step)
        node = node[step]
        line = getattr(node, "line", line) if isinstance(node, (LineDict, LineList)) else line
    return line


def plain(data):
    """Return YAML data (with its line numbers) as plain dicts and lists, for JSON and comparisons."""
    if isinstance(data, Mapping):
        return {str(k): plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [plain(v) for v in data]
    return data
