// The ESM entry of myrpc/etcd (needs the optional peer dependency etcd3).
export * from '../dist/src/etcd.js';
