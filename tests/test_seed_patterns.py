"""The seed's usage patterns (shared/seeds/000_*), run unchanged on futures_impl and on the
stdlib. Pages come from a local http.server on 127.0.0.1 (the `http_server` fixture); no
internet. Each pattern's body is the seed's code; only `fetch_page` and the URLs are local.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from _support import MODULES

pytestmark = pytest.mark.usefixtures("no_thread_leaks")


@pytest.fixture(params=MODULES)
def mod(request: pytest.FixtureRequest) -> ModuleType:
    return request.param  # type: ignore[no-any-return]


def fetch_page(url: str) -> str:
    with urllib.request.urlopen(url, timeout=60) as response:
        return str(response.read().decode())


@pytest.fixture
def urls(http_server: Any) -> list[str]:
    return [http_server.url(p) for p in ("/", "/get", "/docs")]


def test_core_workflow_list_comprehension(mod: ModuleType, urls: list[str]) -> None:
    ThreadPoolExecutor = mod.ThreadPoolExecutor  # noqa: N806 - the seed's spelling

    with ThreadPoolExecutor(max_workers=4) as executor:
        futures = [executor.submit(fetch_page, url) for url in urls]
        results = [future.result() for future in futures]

    assert results == [fetch_page(u) for u in urls]


def test_pattern_1_list_of_futures(mod: ModuleType, http_server: Any) -> None:
    ThreadPoolExecutor = mod.ThreadPoolExecutor  # noqa: N806
    urls = [http_server.url(f"/page/{n}") for n in range(12)]

    with ThreadPoolExecutor(max_workers=5) as executor:
        futures = []
        for url in urls:
            futures.append(executor.submit(fetch_page, url))

        pages = []
        for future in futures:
            pages.append(future.result())

    assert pages == [f"page {n};" * (n + 1) for n in range(12)]  # submission order


def test_pattern_1_identical_calls(mod: ModuleType) -> None:
    ThreadPoolExecutor = mod.ThreadPoolExecutor  # noqa: N806
    messages = [{"role": "system"}, {"role": "user"}]

    @dataclass
    class DimensionTuplesList:
        count: int

    def call_llm(messages: list[dict[str, str]], schema: type) -> Any:
        return schema(len(messages))

    with ThreadPoolExecutor(max_workers=5) as executor:
        futures = [executor.submit(call_llm, messages, DimensionTuplesList) for _ in range(5)]
        responses = [future.result() for future in futures]

    assert responses == [DimensionTuplesList(2)] * 5


def test_pattern_2a_future_to_input(mod: ModuleType, http_server: Any) -> None:
    ThreadPoolExecutor, as_completed = mod.ThreadPoolExecutor, mod.as_completed  # noqa: N806
    urls = [http_server.url("/"), http_server.url("/get"), http_server.url("/missing"),
            http_server.url("/docs")]
    printed = []

    with ThreadPoolExecutor(max_workers=5) as executor:
        # Map each submitted Future back to the URL that produced it.
        future_to_url = {}
        for url in urls:
            future = executor.submit(fetch_page, url)
            future_to_url[future] = url  # Store the URL string itself

        for future in as_completed(future_to_url):
            url = future_to_url[future]  # Get the URL string directly
            try:
                page = future.result()
                printed.append(f"Fetched {url} ({len(page)} bytes)")
            except Exception as exc:
                printed.append(f"{url} failed: {exc}")

    assert len(printed) == 4
    assert sorted(printed) == sorted([
        f"Fetched {urls[0]} ({len(fetch_page(urls[0]))} bytes)",
        f"Fetched {urls[1]} ({len(fetch_page(urls[1]))} bytes)",
        f"{urls[2]} failed: HTTP Error 404: no such page",
        f"Fetched {urls[3]} ({len(fetch_page(urls[3]))} bytes)",
    ])


def test_pattern_2b_future_to_index(mod: ModuleType, http_server: Any) -> None:
    ThreadPoolExecutor, as_completed = mod.ThreadPoolExecutor, mod.as_completed  # noqa: N806
    urls = [http_server.url(f"/page/{n}") for n in range(8)] + [http_server.url("/nope")]
    fetched: dict[int, str] = {}
    failed: dict[int, Exception] = {}

    with ThreadPoolExecutor(max_workers=5) as executor:
        # Map each Future to its index in the original list
        future_to_index = {
            executor.submit(fetch_page, url): i  # Store index (0, 1, 2)
            for i, url in enumerate(urls)
        }

        for future in as_completed(future_to_index):
            index = future_to_index[future]  # Get the index number (0, 1, 2)
            url = urls[index]  # Look up the URL using the index
            try:
                page = future.result()
                fetched[index] = page
                assert url.endswith(f"/page/{index}")
            except Exception as exc:
                failed[index] = exc

    assert fetched == {n: f"page {n};" * (n + 1) for n in range(8)}
    assert list(failed) == [8]
    assert isinstance(failed[8], urllib.error.HTTPError) and failed[8].code == 404


def test_pattern_2b_dimension_tuples(mod: ModuleType) -> None:
    ThreadPoolExecutor, as_completed = mod.ThreadPoolExecutor, mod.as_completed  # noqa: N806

    @dataclass
    class DimensionTuple:
        persona: str
        topic: str

    dimension_tuples = [DimensionTuple(f"p{i}", f"t{i}") for i in range(6)]

    def generate_queries_for_tuple(t: DimensionTuple) -> list[str]:
        return [f"{t.persona}/{t.topic}/{k}" for k in range(2)]

    attached = {}
    with ThreadPoolExecutor(max_workers=5) as executor:
        future_to_tuple = {
            executor.submit(generate_queries_for_tuple, dim_tuple): i
            for i, dim_tuple in enumerate(dimension_tuples)
        }

        for future in as_completed(future_to_tuple):
            tuple_idx = future_to_tuple[future]  # Get index
            dimension_tuple = dimension_tuples[tuple_idx]  # Use index to retrieve tuple
            queries = future.result()
            attached[dimension_tuple.persona] = queries

    assert attached == {f"p{i}": [f"p{i}/t{i}/0", f"p{i}/t{i}/1"] for i in range(6)}


def test_rich_input_objects(mod: ModuleType, http_server: Any) -> None:
    ThreadPoolExecutor, as_completed = mod.ThreadPoolExecutor, mod.as_completed  # noqa: N806

    @dataclass
    class RequestInfo:
        name: str
        url: str

    requests_to_fetch = [
        RequestInfo(name="Docs", url=http_server.url("/docs")),
        RequestInfo(name="Status", url=http_server.url("/status/200")),
        RequestInfo(name="Broken", url=http_server.url("/status/500")),
    ]
    printed = []

    with ThreadPoolExecutor(max_workers=5) as executor:
        future_to_request = {}
        for request in requests_to_fetch:
            future = executor.submit(fetch_page, request.url)  # Launch work for this request.
            future_to_request[future] = request  # Remember the entire RequestInfo object.

        for future in as_completed(future_to_request):
            request = future_to_request[future]  # Recover the same RequestInfo we stored.
            try:
                page = future.result()
                printed.append(f"{request.name} ({request.url}) returned {len(page)} bytes")
            except Exception as exc:
                printed.append(f"{request.name} failed: {exc}")

    docs_len = len(fetch_page(http_server.url("/docs")))
    assert sorted(printed) == sorted([
        f"Docs ({http_server.url('/docs')}) returned {docs_len} bytes",
        f"Status ({http_server.url('/status/200')}) returned 2 bytes",
        "Broken failed: HTTP Error 404: no such page",
    ])


def test_exceptions_reraised_by_result_and_caught_per_future(mod: ModuleType) -> None:
    ThreadPoolExecutor = mod.ThreadPoolExecutor  # noqa: N806

    class TaskError(Exception):
        pass

    def work(i: int) -> int:
        if i % 3 == 0:
            raise TaskError(f"task {i} failed")
        return i * 10

    outcomes: dict[int, object] = {}
    with ThreadPoolExecutor(max_workers=4) as executor:
        futures = {executor.submit(work, i): i for i in range(10)}
        for future, i in futures.items():
            try:
                outcomes[i] = future.result()
            except TaskError as exc:
                outcomes[i] = exc

    for i in range(10):
        if i % 3 == 0:
            assert isinstance(outcomes[i], TaskError) and str(outcomes[i]) == f"task {i} failed"
        else:
            assert outcomes[i] == i * 10


def test_executor_map_over_pages(mod: ModuleType, http_server: Any) -> None:
    urls = [http_server.url(f"/page/{n}") for n in range(6)]
    with mod.ThreadPoolExecutor(max_workers=3) as executor:
        pages = list(executor.map(fetch_page, urls))
    assert pages == [f"page {n};" * (n + 1) for n in range(6)]
