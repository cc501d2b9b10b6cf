#!/usr/bin/env node
// tests/servers/patch-s3rver.js — fix a listing bug in s3rver 3.7.1 (run by
// scripts/setup.sh after `npm ci`; idempotent).
//
// Bug: ListObjects(V2) with a delimiter prunes every directory whose path
// below the prefix contains the delimiter, so an object two or more levels
// deep (prefix "data/", key "data/deep/a/b.txt") is never visited and its
// CommonPrefix ("data/deep/") is missing. Real S3 returns it. Fix: do not
// prune on the delimiter (the key loop already folds such keys into
// CommonPrefixes); test buckets are small, so walking them is cheap.
'use strict';
const fs = require('fs');
const path = require('path');

const file = path.join(__dirname, 'node_modules/s3rver/lib/stores/filesystem.js');
const bad = /if \(\s*delimiterEnc &&\s*dirPath\.slice\(prefixPath\.length\)\.indexOf\(delimiterEnc\) !== -1\s*\)/;
const marker = '/* unifs: no delimiter pruning */';
let src = fs.readFileSync(file, 'utf8');
if (src.includes(marker)) process.exit(0);
if (!bad.test(src)) {
  console.error(`patch-s3rver: pattern not found in ${file}`);
  process.exit(1);
}
src = src.replace(bad, `if (${marker} false)`);
fs.writeFileSync(file, src);
console.error('patch-s3rver: patched CommonPrefixes pruning in s3rver');
