// Compiles every contract in src/ with the pinned solc-js and writes one
// artifact per contract to build/<Name>.json with its ABI and bytecode.
// Run through ../scripts/build-contracts.sh; the artifacts are checked in so
// Rust code can include_str! them without node.
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require('solc');

const SRC = path.join(__dirname, 'src');
const OUT = path.join(__dirname, 'build');

const sources = {};
for (const file of fs.readdirSync(SRC).sort()) {
  if (file.endsWith('.sol')) {
    sources[file] = { content: fs.readFileSync(path.join(SRC, file), 'utf8') };
  }
}

const input = {
  language: 'Solidity',
  sources,
  settings: {
    evmVersion: 'cancun',
    optimizer: { enabled: true, runs: 200 },
    // Without a metadata hash the bytecode depends only on the source and
    // settings, so rebuilding gives byte-identical artifacts.
    metadata: { bytecodeHash: 'none' },
    outputSelection: {
      '*': {
        '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'evm.methodIdentifiers'],
      },
    },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input)));
let failed = false;
for (const e of output.errors || []) {
  process.stderr.write(e.formattedMessage || e.message);
  if (e.severity === 'error') failed = true;
}
if (failed) process.exit(1);

fs.mkdirSync(OUT, { recursive: true });
for (const [file, contracts] of Object.entries(output.contracts)) {
  for (const [name, c] of Object.entries(contracts)) {
    const artifact = {
      contractName: name,
      sourceName: `src/${file}`,
      compiler: `solc ${solc.version()}`,
      evmVersion: input.settings.evmVersion,
      abi: c.abi,
      bytecode: '0x' + c.evm.bytecode.object,
      deployedBytecode: '0x' + c.evm.deployedBytecode.object,
      // Function signature -> 4-byte selector (hex), for tests without an ABI coder.
      methodIdentifiers: c.evm.methodIdentifiers,
    };
    fs.writeFileSync(path.join(OUT, `${name}.json`), JSON.stringify(artifact, null, 2) + '\n');
    console.log(`build/${name}.json  (${c.evm.deployedBytecode.object.length / 2} bytes deployed)`);
  }
}
