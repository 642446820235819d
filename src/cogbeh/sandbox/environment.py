"""BoundedSandbox: Jinja's immutable sandbox with every operator, call, filter, loop and render under a ceiling."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NoReturn

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.environment import Template
from jinja2.exceptions import TemplateError as JinjaError
from jinja2.exceptions import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from cogbeh.sandbox.filters import (
    GUARDED,
    LOOP_FILTER,
    ChargedFilters,
    bounded_concat,
    bounded_range,
    finalize,
)
from cogbeh.sandbox.limits import (
    LimitError,
    budgeted,
    check_binop,
    check_format,
    fits,
    guard_method,
    made,
    size_of,
    spend,
)
from cogbeh.templating import TemplateError


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with `~` routed through the sandbox so a concatenation is sized before it is made."""

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # The same choice of join as Jinja's own visit_Concat.
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.concat_parts({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _BoundedTemplate(Template):
    """A template whose render and module run on a fresh budget and fail with one line naming template and line."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        """Render under the budget; any failure becomes one TemplateError line."""
        with budgeted():
            try:
                return super().render(*args, **kwargs)
            except TemplateError:  # already one line (a ValueError, so it must not be described again)
                raise
            except _TEMPLATE_FAULTS as err:
                raise TemplateError(_describe(self, err)) from None

    def generate(self, *args: Any, **kwargs: Any) -> Iterator[str]:
        """The whole (bounded) render as one piece: streaming would bypass the output limit."""
        yield self.render(*args, **kwargs)

    def make_module(self, vars: Any = None, shared: bool = False, locals: Any = None) -> Any:
        """Run the template's top level (its macros' definitions) under the budget."""
        with budgeted():
            try:
                try:
                    return super().make_module(vars, shared, locals)
                except _TEMPLATE_FAULTS:
                    self.environment.handle_exception()  # Jinja's rewrite: frames that point at template lines
            except TemplateError:  # already one line (a ValueError, so it must not be described again)
                raise
            except _TEMPLATE_FAULTS as err:
                raise TemplateError(_describe(self, err)) from None


#: What template code raises when it is at fault (as templating.template_error judges it); anything else is a bug
#: of ours and keeps its traceback. cogbeh's TemplateError (already one line) is not caught again.
_TEMPLATE_FAULTS = (JinjaError, TypeError, ValueError, ArithmeticError, LookupError, AttributeError,
                    RecursionError, MemoryError)


def _describe(template: Template, err: BaseException) -> str:
    """'template NAME, line N: what went wrong', from the template frames Jinja puts in the traceback."""
    name, line, trace = template.name, None, err.__traceback__
    while trace is not None:
        if "__jinja_exception__" in trace.tb_frame.f_globals:  # a frame Jinja made to point at template source
            name, line = _template_name(template, trace.tb_frame.f_code.co_filename), trace.tb_lineno
        trace = trace.tb_next
    detail = str(err) if isinstance(err, (LimitError, JinjaError)) else f"{type(err).__name__}: {err}"
    detail = " ".join(detail.split())
    if len(detail) > 300:  # a message may quote a value the template made, up to a megabyte of it
        detail = detail[:300] + "..."
    where = f"template {name!r}" + (f", line {line}" if line else "")
    return f"{where}: {detail}"


def _template_name(template: Template, filename: str) -> str:
    for folder in getattr(template.environment.loader, "searchpath", []):
        try:
            return Path(filename).resolve().relative_to(Path(folder).resolve()).as_posix()
        except ValueError:
            continue
    return filename


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox plus ceilings on value size, integer size, steps, work and output."""

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    intercepted_unops = frozenset({"+", "-"})
    code_generator_class = _BoundedCodeGenerator
    template_class = _BoundedTemplate
    concat = staticmethod(bounded_concat)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.finalize = finalize
        self.globals["range"] = bounded_range
        self.globals.pop("lipsum", None)  # lorem ipsum of any length has no place in a prompt or trace
        filters = ChargedFilters()
        filters.update({**self.filters, **GUARDED})
        self.filters = filters

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in list(tree.find_all(nodes.For)):  # count every iteration against the budget
            loop.iter = nodes.Filter(loop.iter, LOOP_FILTER, [], [], None, None, lineno=loop.iter.lineno)
        return tree

    def handle_exception(self, source: str | None = None) -> NoReturn:
        """Syntax errors as one TemplateError line naming the template and line."""
        try:
            super().handle_exception(source)
        except TemplateSyntaxError as err:
            line = f", line {err.lineno}" if err.lineno else ""
            raise TemplateError(f"template {err.name or err.filename!r}{line}: {err.message}") from None

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """`left operator right`, refused first when its result would pass a limit."""
        check_binop(operator, left, right)
        return made(super().call_binop(context, operator, left, right), f"'{operator}'")

    def call_unop(self, context: Any, operator: str, arg: Any) -> Any:
        """Unary + and -, counted."""
        spend()
        return super().call_unop(context, operator, arg)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """A call from template code (macro, method, global): counted, sized before and after."""
        spend()
        args = guard_method(obj, args, kwargs)
        return made(super().call(context, obj, *args, **kwargs), "a call")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """str.format / format_map, sized before formatting."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        is_map = value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            if is_map and not (len(args) == 1 and isinstance(args[0], dict)):
                raise LimitError("format_map takes one dict in templates")
            check_format(value.__self__, args[0].values() if is_map else (*args, *kwargs.values()))
            return made(wrapped(*args, **kwargs), "str.format")

        return bounded

    def concat_parts(self, join: Callable[[Iterable[Any]], str], parts: tuple[Any, ...]) -> str:
        """`a ~ b ~ c`, sized before it is joined."""
        fits(sum(size_of(part) for part in parts), "'~'")
        return made(join(parts), "'~'")
