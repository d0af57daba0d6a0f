"""The ``losslab`` command line: a thin shell over the library.

Each command parses its arguments, calls the library and renders the result. Errors in the
user's input (the library's :class:`~losslab.errors.LosslabError`) end with one red line and exit
code 2; anything else is a bug and shows its traceback.

Start-up is kept light: this module imports typer and rich only, and each command imports what it
does (:mod:`losslab.cli._commands`, and through it JAX, SciPy, pandas and matplotlib) when it
runs, so that ``losslab --help`` and a usage error answer at once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from losslab.cli._render import err_console, set_wide
from losslab.errors import LosslabError

if TYPE_CHECKING:
    from losslab.cli._commands import Extras

try:  # newer typer carries its own copy of click
    from typer._click.exceptions import ClickException, NoSuchOption, UsageError
except ImportError:  # pragma: no cover - typer versions that depend on click itself
    from click.exceptions import ClickException, NoSuchOption, UsageError

#: Options users reach for on a command that has them elsewhere: the fix to say instead of
#: click's spelling suggestions (``run --repeats`` had suggested --features and --report).
_ELSEWHERE = dict.fromkeys((("run", "--repeats"), ("run", "-n")),
                           "run trains one seed (--seed N); compare trains --repeats seeds of each loss")


def _with_default_values(args: list[str]) -> list[str]:
    """``--mlflow`` with no URI after it as ``--mlflow default``: click has no option whose value
    may be left out."""
    out = []
    for i, arg in enumerate(args):
        out.append(arg)
        if arg == "--mlflow" and (i + 1 == len(args) or not _looks_like_uri(args[i + 1])):
            out.append(MLFLOW_DEFAULT)
    return out


def _looks_like_uri(text: str) -> bool:
    """Whether the word after ``--mlflow`` is its URI (``scheme://...``, ``databricks``) rather
    than the next option or the problem's name."""
    return "://" in text or text.startswith("databricks") or text == MLFLOW_DEFAULT


class _Group(TyperGroup):
    """Typer's group with click's usage errors (a bad option value, an unknown command or option,
    a missing value) as one red line, ``error: <what>; <fix>``, and exit code 2, like the
    library's errors. Both the installed program and typer's test runner go through :meth:`main`.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        args = _with_default_values(list(sys.argv[1:] if args is None else args))
        try:
            # Not standalone: click returns the code of an Exit (--help, typer.Exit(2)) instead of
            # calling sys.exit, and raises its usage errors here instead of printing its usage box.
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # the help itself, already shown by rich
                if exc.format_message():
                    exc.show()
            else:
                err_console.print(f"[red]error:[/red] {escape(self._usage_line(exc, args))}", soft_wrap=True)
            sys.exit(exc.exit_code)
        except ClickException as exc:
            err_console.print(f"[red]error:[/red] {escape(exc.format_message())}", soft_wrap=True)
            sys.exit(exc.exit_code)
        except typer.Abort as exc:
            if isinstance(exc.__cause__, EOFError):  # losslab never prompts: a stray EOFError is a bug
                raise exc.__cause__ from None
            err_console.print("Aborted.")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def _usage_line(self, exc: UsageError, args: list[str]) -> str:
        """Click's message on one line, lower-cased like the library's, then where to look up the fix."""
        what = " ".join(exc.format_message().split()).rstrip(".")
        what = what[:1].lower() + what[1:]
        ctx = exc.ctx
        if isinstance(exc, NoSuchOption) and ctx is not None and (ctx.command.name, exc.option_name) in _ELSEWHERE:
            return f"no such option: {exc.option_name}; {_ELSEWHERE[ctx.command.name, exc.option_name]}"
        if ctx is None:  # click raises some parser errors without a context: find the command in args
            command = next((a for a in args if a in self.commands), None)
            path = f"{self.name} {command}" if command else self.name
            is_group = command is None
        else:
            path, is_group = ctx.command_path, isinstance(ctx.command, TyperGroup)
        fix = f"run '{path} --help' to see the commands" if is_group else f"run '{path} --help' to see its options"
        return f"{what}; {fix}"


app = typer.Typer(
    name="losslab",
    help="Configure what a neural network optimizes: losses, output layers, repeated comparisons.",
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(given: bool) -> None:
    if given:
        from losslab._version import __version__

        print(f"losslab {__version__}")
        raise typer.Exit(0)


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", help="Print losslab's version and exit.", is_eager=True,
                                          callback=_print_version)] = False,
) -> None:
    """Configure what a neural network optimizes: losses, output layers, repeated comparisons."""


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the library's user-input errors into one red line and exit code 2; show the library's
    warnings as yellow lines and its notes on the data as ``note:`` lines when they happen (each
    once)."""
    shown: set[str] = set()

    def show(message, category, *_args, **_kwargs) -> None:
        if str(message) not in shown:
            shown.add(str(message))
            # a DataNote says how the data were read (a column left out): a note, not a problem
            label = "[cyan]note:[/cyan]" if category.__name__ == "DataNote" else "[yellow]warning:[/yellow]"
            err_console.print(f"{label} {escape(str(message))}", soft_wrap=True)

    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        warnings.showwarning = show
        try:
            yield
        except KeyboardInterrupt:
            err_console.print(_interrupted_line(), soft_wrap=True)
            raise typer.Exit(130) from None
        except LosslabError as exc:
            one_line = " ".join(str(exc).split())  # a message is one line, whatever a user's code put in it
            err_console.print(f"[red]error:[/red] {escape(one_line)}", soft_wrap=True)
            raise typer.Exit(2) from None


# Options shared by several commands -------------------------------------------------------------
Problem_ = Annotated[str | None, typer.Argument(help="A built-in problem: regression, circles, blobs, or a scikit-learn dataset (iris, wine, digits, breast_cancer, diabetes). Omit with --data.", show_default=False)]
Loss = Annotated[list[str], typer.Option("--loss", "-l", help="Loss name or alias (e.g. mse, 'mean squared error', kld), or your own as path/file.py:function or module:function.")]
Data = Annotated[Path | None, typer.Option("--data", help="Your own CSV or Parquet file (use with --target).")]
Target = Annotated[str | None, typer.Option("--target", help="The column of --data to predict.")]
Kind = Annotated[str | None, typer.Option("--kind", help="regression, binary or multiclass (inferred from the target when omitted).")]
TestSize = Annotated[float | None, typer.Option("--test-size", help="Fraction of rows held out for testing (own data and scikit-learn datasets; default 0.25).", show_default=False)]
SplitSeed = Annotated[int | None, typer.Option("--split-seed", help="Seed of the train/test split (own data and scikit-learn datasets; default 0).", show_default=False)]
Dropna = Annotated[bool, typer.Option("--dropna", help="Drop rows with missing or infinite values instead of refusing them.")]
Features = Annotated[str | None, typer.Option("--features", help="Use only these columns of --data as features, e.g. age,income.", show_default=False)]
Drop = Annotated[str | None, typer.Option("--drop", help="Leave these columns of --data out, e.g. id,notes.", show_default=False)]
Sep = Annotated[str | None, typer.Option("--sep", help="The CSV's field separator (default: sniffed, e.g. ',' or ';').", show_default=False)]
Decimal = Annotated[str | None, typer.Option("--decimal", help="The CSV's decimal mark (default: sniffed, '.' or ',').", show_default=False)]
Encoding = Annotated[str | None, typer.Option("--encoding", help="The file's text encoding, e.g. latin-1 (default: UTF-8, or UTF-16 with a byte-order mark).", show_default=False)]
OnDisk = Annotated[bool | None, typer.Option("--on-disk/--in-memory", help="Keep --data on disk: read it a block of rows at a time and its prepared features in OUT/tables, read page by page (default: when it would take more than 60% of memory read whole).", show_default=False)]
Split = Annotated[str | None, typer.Option("--split", help="resample (a new stratified train/validation/test split per seed; default for data), fixed (one split; default for the tutorial's problems) or cv:K (repeated K-fold).", show_default=False)]
Metric = Annotated[str | None, typer.Option("--metric", help="The score the verdicts use: the tutorial's (accuracy or mse) by default; f1, roc_auc, log_loss, macro_f1, mae, rmse, r2 or poisson_deviance.", show_default=False)]
BackendOpt = Annotated[str, typer.Option("--backend", help="Where the chunks of runs train: local (this machine's cores) or ray (a Ray cluster; pip install 'losslab\\[ray]').")]
Address = Annotated[str | None, typer.Option("--address", help="The Ray cluster to use with --backend ray, e.g. auto or ray://head:10001 (default: start a local Ray).", show_default=False)]
Epochs = Annotated[int | None, typer.Option("--epochs", help="Training epochs (default: the tutorial's for its problems; for data, about 400 SGD updates, at least 20 epochs and at most 500).")]
Lr = Annotated[float | None, typer.Option("--lr", help="Learning rate (default 0.01).")]
Momentum = Annotated[float | None, typer.Option("--momentum", help="SGD momentum (default 0.9).")]
BatchSize = Annotated[int | None, typer.Option("--batch-size", help="Batch size (default 32).")]
Hidden = Annotated[str | None, typer.Option("--hidden", help="Hidden layer sizes, e.g. 50 or 64,32 (default: the problem's).")]
Shuffle = Annotated[str | None, typer.Option("--shuffle", help="rows (every row anew each epoch, as Keras; the default) or blocks (blocks of 4,096 rows, and the rows within windows of 64 blocks: the default for a table kept on disk larger than memory).", show_default=False)]
Optimizer = Annotated[str | None, typer.Option("--optimizer", help="sgd (default), adam, rmsprop, adagrad or adamw.")]
Activation = Annotated[str | None, typer.Option("--activation", help="Hidden-layer activation: relu (default), tanh, sigmoid, gelu, leaky_relu or elu.")]
Out = Annotated[Path, typer.Option("--out", "-o", help="Directory for figures and result files.")]
SaveModels = Annotated[bool, typer.Option("--save-models", help="Keep the trained parameters in the study, for losslab predict.")]
Report = Annotated[bool, typer.Option("--report", help="Also write one self-contained HTML report (verdicts, tables, figures, provenance).")]
Mlflow = Annotated[str | None, typer.Option("--mlflow", help="Log every run to MLflow: --mlflow alone for sqlite:///mlruns.db (or $MLFLOW_TRACKING_URI), or --mlflow URI.", show_default=False)]
Wide = Annotated[bool, typer.Option("--wide", help="Print tables whole, without abbreviating or fitting them to 100 columns.")]

#: What ``--mlflow`` given without a value stands for: MLflow's default store.
MLFLOW_DEFAULT = "default"
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]


@app.command()
def losses(json: Json = False, wide: Wide = False) -> None:
    """List every loss with its problem kind, output layer, target encoding, metric and aliases.

    Example: losslab losses
    """
    from losslab.cli import _catalog

    with user_errors():
        set_wide(wide)
        _catalog.show_losses(json)


@app.command()
def problems(json: Json = False, wide: Wide = False) -> None:
    """List the built-in problems with their size, kind and default settings (the tutorial's for its problems).

    Example: losslab problems
    """
    from losslab.cli import _catalog

    with user_errors():
        set_wide(wide)
        _catalog.show_problems(json)


@app.command()
def run(
    problem: Problem_ = None,
    loss: Loss = ...,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the run (initial weights and batch order).")] = 0,
    epochs: Epochs = None, lr: Lr = None, momentum: Momentum = None, batch_size: BatchSize = None,
    hidden: Hidden = None, optimizer: Optimizer = None, activation: Activation = None, shuffle: Shuffle = None,
    data: Data = None, target: Target = None, kind: Kind = None, test_size: TestSize = None,
    split_seed: SplitSeed = None, dropna: Dropna = False, features: Features = None, drop: Drop = None,
    sep: Sep = None, decimal: Decimal = None, encoding: Encoding = None, on_disk: OnDisk = None, split: Split = None,
    out: Out = Path("losslab-out"), json: Json = False, save_models: SaveModels = False,
    report: Report = False, mlflow: Mlflow = None, wide: Wide = False,
) -> None:
    """Train one model like the tutorial: print the final metric, write the learning curves and history.

    Example: losslab run circles --loss binary_crossentropy
    """
    from losslab.cli import _commands

    with user_errors():
        source = _commands.Source(problem, data, target, kind, test_size, split_seed, dropna, features, drop, sep,
                                  decimal, encoding, on_disk, out)
        settings = _commands.SettingsOptions(epochs, lr, momentum, batch_size, hidden, optimizer, activation, split,
                                             shuffle=shuffle)
        _commands.run_one(source, loss, seed, settings, out, json, save_models, _extras(report, mlflow, wide))


@app.command()
def replicate(
    repeats: Annotated[int, typer.Option("--repeats", "-n", help="Runs per case study (mean ± sd when > 1).")] = 30,
    epochs: Annotated[int | None, typer.Option("--epochs", help="Override every case study's epochs (for quick checks).")] = None,
    out: Out = Path("losslab-out"), json: Json = False,
    report: Report = False, mlflow: Mlflow = None, wide: Wide = False,
) -> None:
    """Reproduce the tutorial: all nine case studies and the extensions, judged over repeats, with its figures.

    Example: losslab replicate --repeats 5 --out results --report
    """
    from losslab.figures import _early

    if _first_replication(out):  # then it draws all 14 figures: their worker imports matplotlib on the core
        _early.start()  # that this command's own imports leave free
    try:
        from losslab.cli import _commands

        with user_errors():
            _commands.replicate_all(repeats, epochs, out, json, _extras(report, mlflow, wide))
    finally:
        _early.stop()


def _first_replication(out: Path) -> bool:
    """Whether ``out`` holds no replication yet (one run again may draw no figure at all); False
    where ``out`` cannot be read, which the command then reports."""
    try:
        return not (out / "replicate.csv").exists()
    except OSError:
        return False


@app.command()
def compare(
    problem: Problem_ = None,
    loss: Loss = ...,
    repeats: Annotated[int, typer.Option("--repeats", "-n", help="Paired seeds per loss.")] = 30,
    margin: Annotated[float | None, typer.Option("--margin", help="Equivalence margin in the metric's units (default 0.01 = 1 point of accuracy; 10% of the MSE for regression).")] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="Significance level of every test.")] = 0.05,
    epochs: Epochs = None, lr: Lr = None, momentum: Momentum = None, batch_size: BatchSize = None,
    hidden: Hidden = None, optimizer: Optimizer = None, activation: Activation = None, shuffle: Shuffle = None,
    data: Data = None, target: Target = None, kind: Kind = None, test_size: TestSize = None,
    split_seed: SplitSeed = None, dropna: Dropna = False, features: Features = None, drop: Drop = None,
    sep: Sep = None, decimal: Decimal = None, encoding: Encoding = None, on_disk: OnDisk = None, split: Split = None, metric: Metric = None,
    backend: BackendOpt = "local", address: Address = None,
    out: Out = Path("losslab-out"), json: Json = False, save_models: SaveModels = False,
    report: Report = False, mlflow: Mlflow = None, wide: Wide = False,
) -> None:
    """Compare losses over repeated paired runs: statistics, baselines, verdicts and curve diagnostics.

    Example: losslab compare blobs --loss categorical_crossentropy --loss kl_divergence --repeats 30
    """
    from losslab.cli import _commands

    with user_errors():
        source = _commands.Source(problem, data, target, kind, test_size, split_seed, dropna, features, drop, sep,
                                  decimal, encoding, on_disk, out)
        settings = _commands.SettingsOptions(epochs, lr, momentum, batch_size, hidden, optimizer, activation, split,
                                             backend, address, shuffle)
        _commands.compare_losses(source, loss, repeats, margin, alpha, settings, out, json, save_models,
                                 _extras(report, mlflow, wide), metric)


@app.command()
def recommend(
    problem: Problem_ = None,
    verify: Annotated[bool, typer.Option("--verify", help="Also train the recommendation against the alternatives and compare.")] = False,
    repeats: Annotated[int | None, typer.Option("--repeats", "-n", help="Paired seeds per loss with --verify (default 10).", show_default=False)] = None,
    epochs: Epochs = None, batch_size: BatchSize = None, shuffle: Shuffle = None,
    data: Data = None, target: Target = None, kind: Kind = None, test_size: TestSize = None,
    split_seed: SplitSeed = None, dropna: Dropna = False, features: Features = None, drop: Drop = None,
    sep: Sep = None, decimal: Decimal = None, encoding: Encoding = None, on_disk: OnDisk = None, split: Split = None, metric: Metric = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Directory for figures and result files with --verify (default losslab-out).", show_default=False)] = None,
    json: Json = False, report: Report = False, mlflow: Mlflow = None, wide: Wide = False,
) -> None:
    """Recommend a loss, output layer and target encoding for a problem or your own data.

    Example: losslab recommend --data houses.csv --target price --verify
    """
    from losslab.cli import _commands

    with user_errors():
        source = _commands.Source(problem, data, target, kind, test_size, split_seed, dropna, features, drop, sep,
                                  decimal, encoding, on_disk, out or Path("losslab-out"))
        options = _commands.SettingsOptions(epochs, batch_size=batch_size, split=split, shuffle=shuffle)
        _commands.recommend_loss(source, verify, repeats, options, out, json, _extras(report, mlflow, wide), metric)


@app.command()
def show(
    path: Annotated[Path, typer.Argument(help="A study directory, or a command's --out folder holding studies.", show_default=False)],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the figures and tables (default: PATH/shown).", show_default=False)] = None,
    json: Json = False, wide: Wide = False,
) -> None:
    """Show a stored study again without training: tables, verdicts and figures.

    Example: losslab show losslab-out
    """
    from losslab.cli import _commands

    with user_errors():
        _extras(False, None, wide)
        _commands.show_studies(path, out, json)


@app.command("report")
def report_command(
    path: Annotated[Path, typer.Argument(help="A study directory, or a command's --out folder holding studies.", show_default=False)],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="The HTML file to write (default: report.html in PATH).", show_default=False)] = None,
) -> None:
    """Write one self-contained HTML report of stored studies, without training: open it in a browser.

    Example: losslab report losslab-out
    """
    from losslab.cli import _commands

    with user_errors():
        _commands.report_studies(path, out)


@app.command("predict")
def predict_rows(
    path: Annotated[Path, typer.Argument(help="A study trained with --save-models (its directory, or the --out folder holding it).", show_default=False)],
    data: Annotated[Path, typer.Option("--data", help="CSV or Parquet file of new rows with the training features.", show_default=False)],
    loss: Annotated[str | None, typer.Option("--loss", "-l", help="Which loss's models (default: the study's first).", show_default=False)] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="One seed's model (default: the mean over every seed).", show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="The file to write: CSV, or Parquet when it ends in .parquet.")] = Path("predictions.csv"),
    json: Json = False,
) -> None:
    """Predict new rows with a stored study's models: class probabilities and labels, or values in the target's units.

    Example: losslab predict losslab-out --data new_houses.csv --loss mse
    """
    from losslab.cli import _commands

    with user_errors():
        _commands.predict_file(path, data, loss, seed, out, json)


@app.command()
def sweep(
    problem: Problem_ = None,
    loss: Loss = ...,
    lr: Annotated[str | None, typer.Option("--lr", help="Learning rates to sweep, e.g. 0.001,0.01,0.1.", show_default=False)] = None,
    momentum: Annotated[str | None, typer.Option("--momentum", help="SGD momenta to sweep, e.g. 0.5,0.9.", show_default=False)] = None,
    batch_size: Annotated[str | None, typer.Option("--batch-size", help="Batch sizes to sweep, e.g. 16,32,64 (each compiles its own program).", show_default=False)] = None,
    hidden: Annotated[str | None, typer.Option("--hidden", help="Hidden layers to sweep, e.g. 50,64x32 (one layer of 50; two of 64 and 32).", show_default=False)] = None,
    repeats: Annotated[int, typer.Option("--repeats", "-n", help="Paired seeds per loss and setting.")] = 10,
    epochs: Epochs = None, optimizer: Optimizer = None, activation: Activation = None, shuffle: Shuffle = None,
    data: Data = None, target: Target = None, kind: Kind = None, test_size: TestSize = None,
    split_seed: SplitSeed = None, dropna: Dropna = False, features: Features = None, drop: Drop = None,
    sep: Sep = None, decimal: Decimal = None, encoding: Encoding = None, on_disk: OnDisk = None, split: Split = None, metric: Metric = None,
    backend: BackendOpt = "local", address: Address = None,
    out: Out = Path("losslab-out"), json: Json = False, wide: Wide = False, save_models: SaveModels = False,
) -> None:
    """Compare losses at every setting of a grid of hyperparameters: where does each loss win?

    Example: losslab sweep circles --loss binary_crossentropy --loss hinge --lr 0.001,0.01,0.1 --repeats 10
    """
    from losslab.cli import _commands, _sweep

    with user_errors():
        _extras(False, None, wide)
        source = _commands.Source(problem, data, target, kind, test_size, split_seed, dropna, features, drop, sep,
                                  decimal, encoding, on_disk, out)
        settings = _commands.SettingsOptions(epochs, optimizer=optimizer, activation=activation, split=split,
                                             backend=backend, address=address, shuffle=shuffle)
        grid = {"learning_rate": ("--lr", lr), "momentum": ("--momentum", momentum),
                "batch_size": ("--batch-size", batch_size), "hidden": ("--hidden", hidden)}
        _sweep.sweep_losses(source, loss, repeats, grid, settings, out, json, metric, save_models)


@app.command()
def claims(
    repeats: Annotated[int, typer.Option("--repeats", "-n", help="Paired seeds per configuration of each experiment.")] = 30,
    only: Annotated[str | None, typer.Option("--only", help="Claims to test, by number or key, e.g. 1,4 or mae-outliers (default: all).", show_default=False)] = None,
    out: Out = Path("losslab-out"), json: Json = False, wide: Wide = False,
    report: Annotated[bool, typer.Option("--report", help="Also write claims_report.html: one self-contained HTML page of the claims, their figures and the losses drawn.")] = False,
) -> None:
    """Test the tutorial's prose claims, each with a designed experiment on paired seeds: supported or not.

    Example: losslab claims --only 4 --repeats 10
    """
    from losslab.cli import _claims

    with user_errors():
        _extras(False, None, wide)
        _claims.test_claims(repeats, only, out, json, report)


@app.command("plot-losses")
def plot_losses(
    names: Annotated[list[str], typer.Argument(help="Losses to draw, by name or alias (e.g. mse mae huber).", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="The PNG file to write.")] = Path("losses.png"),
    json: Json = False,
) -> None:
    """Draw losses and their gradients against the residual, the probability or the margin.

    Example: losslab plot-losses mse mae huber bce hinge squared_hinge
    """
    from losslab.cli import _claims

    with user_errors():
        _claims.draw_losses(names, out, json)


def _extras(report: bool, mlflow: str | None, wide: bool) -> Extras:
    """The output options shared by the training commands; ``--wide`` takes effect at once."""
    from losslab.cli import _commands

    set_wide(wide)
    return _commands.Extras(report, None if mlflow in (None, MLFLOW_DEFAULT) else mlflow, mlflow is not None)


def _interrupted(_signum: int, _frame: object) -> None:
    """Ctrl-C: one line and exit code 130, at once. Chunks and files are written atomically, so
    stopping anywhere leaves the study resumable; a KeyboardInterrupt raised instead can be
    swallowed inside JAX's callbacks and the command would go on. A second Ctrl-C while this
    prints is ignored (it would interrupt the printing itself, half-way through an import)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    err_console.print(_interrupted_line(), soft_wrap=True)
    for folder in list(getattr(sys.modules.get("losslab.problems._on_disk"), "PREPARING", ())):
        shutil.rmtree(folder, ignore_errors=True)  # a table half prepared: nothing of it is kept
    os._exit(130)


def _interrupted_line() -> str:
    """What an interrupted command kept: the finished runs of the studies it opened, counted from
    the study store's files (the store is loaded wherever a study can have been opened)."""
    store = sys.modules.get("losslab.store")
    opened = dict(store.OPENED) if store else {}
    try:
        kept = sum(store.kept_runs(path, models) for path, models in opened.items())
    except Exception:  # a stray file in a study folder must not keep Ctrl-C from ending the command
        kept = None
    if not opened or kept == 0:
        return "[red]interrupted[/red] before any run was kept; run the same command again"
    where = " and ".join(sorted({escape(str(path.parent)) for path in opened}))
    if kept is None:
        return f"[red]interrupted:[/red] the finished runs are kept in {where}; run the same command again to resume"
    return (f"[red]interrupted:[/red] {kept} finished run{'s are' if kept != 1 else ' is'} kept in {where}; "
            "run the same command again to resume")


def main() -> None:  # pragma: no cover - the console entry point
    signal.signal(signal.SIGINT, _interrupted)
    try:
        app()
    except SystemExit as done:
        if isinstance(done.code, int | None):
            _exit_without_teardown(done.code or 0)
        raise


def _exit_without_teardown(code: int) -> None:
    """End a finished command as the interpreter would, less its last step: freeing, one object at
    a time, the thousands of modules that JAX, SciPy, pandas and matplotlib loaded took 0.4-0.5 s
    after the command's output was complete, memory the system takes back at once anyway. What
    matters at exit still happens, in the interpreter's order: threads still working are waited for
    (the compile threads, a library's), then the exit handlers run (MLflow's, Ray's, temporary
    folders'), then standard output and error are flushed. The ordinary exit takes over where a
    profiler, tracer or coverage tool watches the process (it writes its results after this
    returns), where a flush fails (a closed pipe), and where the interpreter lacks the thread
    shutdown."""
    import atexit
    import threading

    shutdown = getattr(threading, "_shutdown", None)  # what the interpreter calls first when it exits
    if shutdown is None or _watched():
        return
    shutdown()
    atexit._run_exitfuncs()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None where the stream was closed before Python started
                stream.flush()
    except (OSError, ValueError):
        return
    os._exit(code)


def _watched() -> bool:
    """Whether a profiler, tracer, debugger or coverage tool is attached to this process."""
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return True
    monitoring = getattr(sys, "monitoring", None)  # Python 3.12+: cProfile and coverage may use it instead
    return monitoring is not None and any(monitoring.get_tool(tool) is not None for tool in range(6))
