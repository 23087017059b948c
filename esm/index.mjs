// The ESM entry: the same module instances as require('myrpc'), so one metadata store and one RpcError class.
export * from '../dist/src/index.js';
