"""The platform's side of the events benchmark, in a process of its own: signed POSTs from N clients.

`python -m bench.loadgen CONFIG.json` reads the bodies file the config names (one event body per
line, sent byte for byte), and POSTs them to `url` from `concurrency` tasks sharing one aiohttp
ClientSession (keep-alive connections, as a platform's HTTP client would use), each request signed
at send time like the platform signs (`X-Signature: t=…,v1=HMAC-SHA256`). It runs for the warm-up
plus the timed seconds with bench.common.run_for, so throughput and latencies mean the same as
everywhere else in the bench, and prints one JSON object: the Throughput fields plus the HTTP
statuses and the `outcome`s the API answered.

A separate process, so the client's own Python (signing, aiohttp) does not share the server's
event loop: on the 2-core machine the server gets one core, the client and the database the other.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path


async def main(config_path: str) -> None:
    import aiohttp

    from bench.common import run_for
    from bot.api.signing import sign

    config = json.loads(Path(config_path).read_text())
    bodies = iter(Path(config["bodies"]).read_bytes().splitlines())
    url, secret = config["url"], config["secret"]
    statuses: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    connector = aiohttp.TCPConnector(limit=config["concurrency"])
    async with aiohttp.ClientSession(connector=connector) as http:

        async def step() -> bool:
            body = next(bodies, None)
            if body is None:
                return False
            headers = {"Content-Type": "application/json", "X-Signature": sign(secret, body)}
            async with http.post(url, data=body, headers=headers) as response:
                answer = await response.json()
            statuses[str(response.status)] += 1
            outcomes[str(answer.get("outcome") or answer.get("status") or f"HTTP {response.status}")] += 1
            if response.status not in (200, 202):
                if len(failures) < 3:
                    failures.append(f"{response.status} {json.dumps(answer, ensure_ascii=False)[:200]}")
                raise RuntimeError(response.status)
            return True

        result = await run_for(step, concurrency=config["concurrency"], seconds=config["seconds"],
                               warmup=config["warmup"])
    print(json.dumps({"done": result.done, "seconds": result.seconds, "latencies": result.latencies,
                      "errors": result.errors, "exhausted": result.exhausted, "statuses": statuses,
                      "outcomes": outcomes, "failures": failures}))


if __name__ == "__main__":
    from bot.runtime.loop import run

    # The loop `referral-bot run` takes (EVENT_LOOP), so the figures are the product's.
    run(main(sys.argv[1]))
