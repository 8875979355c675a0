"""Definitions superseded in their body (`_define.superseded`): made anew, not kept.

In process: the syntax-tree rule on its own (the reloads it serves are in
test_registrations and test_bigsource).
"""

from __future__ import annotations

import ast
import textwrap

import pytest

from hotmod._define import superseded


def superseded_lines(source: str) -> list[int]:
    """The ``def``/``class`` lines of the definitions the rule says are superseded."""
    body = ast.parse(textwrap.dedent(source)).body
    found = superseded(body)
    return [node.lineno for node in body if id(node) in found]


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        # @overload stubs, then the implementation: the stubs are superseded
        ("@overload\ndef f(x: int): ...\n@overload\ndef f(x: str): ...\ndef f(x): pass\n", [2, 4]),
        # one name defined and registered twice, a class defined again
        ("@register\ndef h(): pass\n@register\ndef h(): pass\nclass C: 0\nclass C: 0\n", [2, 5]),
        # a property's parts build on each other: none is superseded...
        ("@property\ndef x(s): pass\n@x.setter\ndef x(s, v): pass\n", []),
        # ...unless the name is defined again after them: then all its parts are
        ("@property\ndef x(s): pass\n@x.setter\ndef x(s, v): pass\ndef x(): pass\n", [2, 4]),
        # other names, and statements that are no definition, change nothing
        ("def a(): pass\nb = a\ndef b(): pass\ndef c(): pass\n", []),
    ],
)
def test_a_definition_bound_again_below_without_being_built_on_is_superseded(
    source: str, lines: list[int]
) -> None:
    assert superseded_lines(source) == lines


def test_only_definitions_of_the_same_body_supersede() -> None:
    # One branch of an ``if`` runs: neither definition is known to come after the other.
    source = """
        import sys
        if sys.version_info >= (3, 11):
            def f(): pass
        else:
            def f(): pass
        def g(): pass
    """
    assert superseded_lines(source) == []
