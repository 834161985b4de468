"""The sidecar (``tokendash serve``): JSON-RPC 2.0 over HTTP and gRPC over one in-memory dashboard that a
scheduler keeps fresh.

    auth        the bearer token (generated into $TOKENDASH_HOME/token) and the loopback rule
    cache       the DashboardSummary in memory, rebuilt after each refresh, encoded once
    scheduler   one thread per source, its own interval and backoff; single-flight refreshes
    runtime     the methods' Context inside the sidecar (cache + scheduler)
    jsonrpc     envelopes, batches, error codes
    http        the ASGI app (/rpc, /healthz, /readyz) on uvicorn
    grpc        TokenDashboardService, grpc.health.v1 and reflection on grpc.aio
    main        start and stop order, signals
"""
