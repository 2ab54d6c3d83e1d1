// Settings of the data-plane benchmark (gateway-bench.ts): the route every
// proxy serves, the CPUs, and what the GATEFLEET_BENCH_GW_* variables select.

/** The benchmarked route (Host and path) and the backend's response body. */
export const HOST = 'bench.gw0.example.com';
export const PATH = '/';
export const BODY = 'gatefleet benchmark backend: a fixed 64-byte response body.....\n';
/** The proxy under test is pinned to CPU 0; wrk, the backend and this process to CPU 1. */
export const PROXY_CPU = '0';
export const LOAD_CPU = '1';

const env = process.env;
export const REPEATS = Number(env.GATEFLEET_BENCH_GW_REPEATS ?? 3);
export const SECONDS = Number(env.GATEFLEET_BENCH_GW_SECONDS ?? 10);
export const WARMUP_SECONDS = 2;
export const PHASES = (env.GATEFLEET_BENCH_GW_PHASES ?? 'throughput,scaling').split(',');
export const SIZES = (env.GATEFLEET_BENCH_GW_SIZES ?? '10,1000,5000').split(',').map(Number);
export const CONNECTIONS = (env.GATEFLEET_BENCH_GW_CONNECTIONS ?? '1,50').split(',').map(Number);
/** GATEFLEET_BENCH_GW_PROXIES=gatefleet narrows the throughput phase (for profiling). */
export const PROXIES = (
  env.GATEFLEET_BENCH_GW_PROXIES ?? 'gatefleet,nginx,haproxy,gatefleet-w2,direct'
)
  .split(',')
  .filter(Boolean);
/** A run during which other processes used more of CPU 0 than this (%) is measured again… */
export const FOREIGN_MAX_PCT = 10;
/** …this many times at most in the whole benchmark (time budget). */
export const RETRIES = Number(env.GATEFLEET_BENCH_GW_RETRIES ?? 4);
/** Longest total wait for CPU 0 to be quiet before runs (ms). */
export const WAIT_BUDGET_MS = Number(env.GATEFLEET_BENCH_GW_WAIT_SECONDS ?? 60) * 1000;
/** `node --cpu-prof` for every single-worker gateway: the profiles' folder (one file per process). */
export const CPU_PROF_DIR = env.GATEFLEET_BENCH_GATEWAY_CPU_PROF;
