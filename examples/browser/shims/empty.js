// Stands in for Node built-ins (fs, path, os, perf_hooks) that tfjs's wasm
// bundle imports but only uses under Node.
export default {};
