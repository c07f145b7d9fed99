"""Reading configuration and results files, with errors that name the file and the path."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from rules.config import BlocConfig, ResultsFile

ModelT = TypeVar("ModelT", bound=BaseModel)


class FileError(Exception):
    """A file that cannot be used, with one line per problem."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__("\n".join(f"{path}: {problem}" for problem in problems))
        self.path = path
        self.problems = problems


MAX_FILE_BYTES = 8 * 1024 * 1024  # a bloc of 4.000 units is about 2,7 MB of configuration


class _TextNumberLoader(yaml.SafeLoader):
    """A safe loader that leaves floats as text (`29.945` is read the Vietnamese way later)."""


_TextNumberLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:float"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def format_location(location: tuple[int | str, ...]) -> str:
    """Turn a pydantic error location into `units[3].code`."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _repeated_key(root: yaml.Node) -> str | None:
    """Where a key is given twice in one mapping (YAML would keep the last one silently), or None.

    Walks the composed document without recursion (its depth is the file's), so the
    problem names the key's line and its path (`line 38, column 3: roles.leader`).
    """
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, yaml.Node] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else None
                where = f"{path}.{key}" if path and key is not None else (key or path)
                if key is not None and key != "<<":
                    first = seen.get(key)
                    if first is not None:
                        mark = key_node.start_mark
                        return (f"line {mark.line + 1}, column {mark.column + 1}: {where}: the key {key!r} "
                                f"is given twice (first at line {first.start_mark.line + 1}); only one may stay")
                    seen[key] = key_node
                stack.append((value_node, where))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}[{index}]") for index, item in enumerate(node.value))
    return None


def _load(content: str, path: Path) -> Any:
    """Compose the document, refuse a repeated key, then build the Python values."""
    loader = _TextNumberLoader(content)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        repeated = _repeated_key(root)
        if repeated is not None:
            raise FileError(path, [repeated])
        return loader.construct_document(root)
    finally:
        loader.dispose()


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, reporting the line of a syntax error."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise FileError(path, [f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; not a bloc's file"])
        content = raw.decode("utf-8")
    except OSError as exc:
        raise FileError(path, [f"cannot be read: {exc.strerror or exc}"]) from exc
    except UnicodeDecodeError as exc:
        raise FileError(path, ["is not UTF-8 text; save it as UTF-8"]) from exc
    try:
        return _load(content, path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise FileError(path, [f"{where}not valid YAML ({problem})"]) from exc
    except (RecursionError, MemoryError) as exc:
        raise FileError(path, ["is nested too deeply or too large to read"]) from exc


def validate(model: type[ModelT], data: Any, path: Path) -> ModelT:
    """Validate parsed data, turning pydantic errors into `path: location: message` lines."""
    if not isinstance(data, dict):
        raise FileError(path, ["the file must be a mapping of keys (bloc:, units:, ...)"])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            location = format_location(tuple(error["loc"]))
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{location}: {message}" if location else message)
        raise FileError(path, problems) from exc


def load_bloc_file(path: Path) -> BlocConfig:
    """Read and validate a bloc configuration file."""
    return validate(BlocConfig, read_yaml(path), path)


def load_results_file(path: Path) -> ResultsFile:
    """Read and validate a results file."""
    return validate(ResultsFile, read_yaml(path), path)
