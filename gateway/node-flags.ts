// The Node.js flags every gateway process is started with (local fleet,
// container image, benchmark). A young generation of 2 MB semi-spaces
// instead of V8's 16 MB: proxying allocates many short-lived objects, and
// with large semi-spaces more of them survive into the old generation under
// load, whose limit then grows with them. Measured with 5,000 routes: RSS
// after a c=50 load 175 MB instead of 254 MB, for a few percent of
// throughput at 10 routes (README, Gateway data plane). Dockerfile.gateway
// repeats these flags in its entrypoint.
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
