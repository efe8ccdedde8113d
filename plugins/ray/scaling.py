"""Measure ``hookchain batch`` throughput: the local executor against the ray
executor with 1, 2 and 4 tasks in flight, on a local Ray instance, with the
echo model's simulated latency. Prints the README's table (Markdown).

    python plugins/ray/scaling.py [--rows 400] [--delay 0.5] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from hookchain.batch import run_batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--delay", type=float, default=0.5, help="echo's simulated latency, seconds")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--cpus", type=int, default=4, help="CPUs of the local Ray instance")
    args = parser.parse_args()

    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    work = Path(tempfile.mkdtemp(prefix="hookchain-scaling-"))
    source = work / "in.jsonl"
    source.write_text("".join(json.dumps({"id": i, "q": f"question {i}"}) + "\n" for i in range(args.rows)))
    (work / "quiet.toml").write_text('model = "echo"\n')

    def measure(name: str, executor: str, **options: object) -> float:
        state = run_batch(source, work / f"{name}.jsonl", template="{q}", model="echo", id_field="id",
                          model_options={"delay": args.delay}, concurrency=args.concurrency,
                          config=str(work / "quiet.toml"), executor=executor, executor_options=options)
        assert state.succeeded
        return state.rows_per_second

    measure("warm-up", "ray", tasks=args.cpus)  # workers started and hookchain imported in each
    rows = [("local", 1, measure("local", "local"))]
    for tasks in (1, 2, 4):
        rows.append((f"ray, {tasks} worker{'s' * (tasks > 1)}", tasks, measure(f"ray{tasks}", "ray", tasks=tasks)))
    ideal = args.concurrency / args.delay
    print(f"{args.rows} rows, echo delay {args.delay} s, --concurrency {args.concurrency}\n")
    print("| executor | rows/s | of the ideal (workers x concurrency / delay) |")
    print("| --- | ---: | ---: |")
    for name, workers, speed in rows:
        print(f"| {name} | {speed:.1f} | {speed / (workers * ideal):.0%} |")
    ray.shutdown()


if __name__ == "__main__":
    main()
