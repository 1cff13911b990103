"""What the benchmarks share; each script imports the parts it needs.

- ``scratch``: a throw-away PostgreSQL database, a tenant, set-based data, the common
  command-line options and checks;
- ``servers``: the app served by uvicorn (in this process or a child one), free ports,
  child processes, the server's log;
- ``http_client``: a minimal keep-alive HTTP/1.1 client (and the same interface on httpx);
- ``ws_client``: a minimal graphql-transport-ws subscription on a plain asyncio transport;
- ``subscribers``: a client process holding many subscriptions (``python -m
  bench.harness.subscribers``); ``client_processes``: the coordinator's side of them;
- ``measure``: CPU of processes and of the machine, SQL statement timers, percentiles;
- ``profiler``: py-spy on a server process, and a summary of what it recorded;
- ``report``: progress lines and the pieces of the printed reports;
- ``global_id``: Relay global ids, as the API gives them out.
"""
