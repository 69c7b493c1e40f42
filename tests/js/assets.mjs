// Native assets, settlement and ballots through ethers v6, as a dapp or a
// bank's back office would use them against a `tally dev` node:
//
//   TALLY_RPC=http://127.0.0.1:8545 node tests/js/assets.mjs
//
// Issues assets through the assets system contract, moves them through
// their plain ERC-20 face, checks that every policy refuses with its
// reason, claws back, settles delivery versus payment with EIP-712
// signatures (a leg without funds moves nothing; expired and replayed
// instructions are refused; a netted batch), and runs a ballot from
// snapshot to result. Exits non-zero on the first failure.

import assert from "node:assert/strict";
import { ethers } from "ethers";
import { MNEMONIC, expectRevert, sent, url } from "./system.mjs";

const ASSETS = "0x0000000000000000000000000000000000001003";
const SETTLEMENT = "0x0000000000000000000000000000000000001004";
const BALLOTS = "0x0000000000000000000000000000000000001005";

const ASSETS_ABI = [
  "event AssetIssued(address indexed token, address indexed issuer, uint64 id, string name, string symbol, uint8 decimals, uint256 cap, address regulator)",
  "event Clawback(address indexed token, address indexed from, address indexed to, uint256 amount, string reason)",
  "function issue(string name, string symbol, uint8 decimals, uint256 cap, address regulator, (bool allowlist, uint256 maxHolding, string purpose) policy) returns (address)",
  "function mint(address token, address to, uint256 amount)",
  "function setAllowed(address token, address account, bool allowed)",
  "function setFrozen(address token, address account, bool frozen)",
  "function setTagged(address token, address account, bool tagged)",
  "function setPaused(address token, bool paused)",
  "function clawback(address token, address from, uint256 amount, string reason)",
  "function holders(address token, uint64 start, uint64 count) view returns (address[] accounts, uint256[] balances)",
];
// What any wallet knows: the plain ERC-20 ABI.
const ERC20_ABI = [
  "event Transfer(address indexed from, address indexed to, uint256 value)",
  "function name() view returns (string)",
  "function symbol() view returns (string)",
  "function decimals() view returns (uint8)",
  "function totalSupply() view returns (uint256)",
  "function balanceOf(address) view returns (uint256)",
  "function transfer(address to, uint256 value) returns (bool)",
];
const INSTRUCTION =
  "(address partyA, address partyB, address assetA, uint256 amountA, address assetB, uint256 amountB, uint64 expiry, uint256 nonce)";
const SETTLEMENT_ABI = [
  `function settle(${INSTRUCTION} instruction, bytes signatureA, bytes signatureB) returns (bytes32)`,
  `function settleBatch(${INSTRUCTION}[] instructions, bytes[] signaturesA, bytes[] signaturesB) returns (uint64)`,
  `function digestOf(${INSTRUCTION} instruction) view returns (bytes32)`,
  "function settledAt(bytes32 id) view returns (uint64)",
];
const BALLOTS_ABI = [
  "function open(address token, string question, string[] options, uint64 endBlock) returns (uint64)",
  "function vote(uint64 id, uint8 option)",
  "function getBallot(uint64 id) view returns ((uint64 id, address token, address creator, string question, string[] options, uint64 snapshotId, uint64 snapshotBlock, uint64 endBlock, uint256[] tallies, uint64 voters, uint256 eligibleWeight))",
];
const TYPES = {
  Instruction: [
    { name: "partyA", type: "address" },
    { name: "partyB", type: "address" },
    { name: "assetA", type: "address" },
    { name: "amountA", type: "uint256" },
    { name: "assetB", type: "address" },
    { name: "amountB", type: "uint256" },
    { name: "expiry", type: "uint64" },
    { name: "nonce", type: "uint256" },
  ],
};

async function main() {
  const provider = new ethers.JsonRpcProvider(url, undefined, {
    pollingInterval: 100,
    cacheTimeout: -1,
  });
  const { chainId } = await provider.getNetwork();
  const wallet = (i) =>
    ethers.HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).connect(provider);
  // issuer (a bank), regulator, and holders
  const [issuer, regulator, alice, bob, carol] = [0, 1, 2, 3, 4].map(wallet);
  const assets = (who) => new ethers.Contract(ASSETS, ASSETS_ABI, who);
  const iface = new ethers.Interface(ASSETS_ABI);

  // --- issue: a bond held only by approved investors, at most 1,000 each ---
  const receipt = await sent(
    assets(issuer).issue("Bond 2030", "B30", 2, 1_000_000n, regulator.address, {
      allowlist: true,
      maxHolding: 100_000n,
      purpose: "",
    }),
  );
  const issued = receipt.logs
    .map((l) => { try { return iface.parseLog(l); } catch { return null; } })
    .find((l) => l?.name === "AssetIssued");
  assert.ok(issued, "an AssetIssued event");
  const tokenAddress = issued.args.token;
  assert.notEqual(await provider.getCode(tokenAddress), "0x", "code at the token address");
  const bond = (who) => new ethers.Contract(tokenAddress, ERC20_ABI, who);
  assert.equal(await bond(alice).name(), "Bond 2030");
  assert.equal(await bond(alice).symbol(), "B30");
  assert.equal(await bond(alice).decimals(), 2n);

  // --- policy refusals, each with its reason ---
  await expectRevert(
    assets(issuer).mint(tokenAddress, alice.address, 500n),
    "is not on B30's allowlist",
    "mint to an account not on the allowlist",
  );
  for (const who of [alice, bob]) {
    await sent(assets(regulator).setAllowed(tokenAddress, who.address, true));
  }
  await expectRevert(
    assets(alice).mint(tokenAddress, alice.address, 5n),
    "only B30's issuer",
    "mint by a non-issuer",
  );
  await expectRevert(
    assets(issuer).mint(tokenAddress, alice.address, 2_000_000n),
    "exceed the cap",
    "mint above the cap",
  );
  await sent(assets(issuer).mint(tokenAddress, alice.address, 90_000n));
  // ERC-20 transfer with its Transfer event, as a wallet sends it.
  const moved = await sent(bond(alice).transfer(bob.address, 30_000n));
  const transfer = moved.logs.map((l) => bond(alice).interface.parseLog(l)).find(Boolean);
  assert.equal(transfer.name, "Transfer");
  assert.equal(transfer.args.value, 30_000n);
  assert.equal(await bond(alice).balanceOf(bob.address), 30_000n);
  await expectRevert(
    bond(alice).transfer(carol.address, 1n),
    "is not on B30's allowlist",
    "transfer to an account not on the allowlist",
  );
  await sent(assets(issuer).mint(tokenAddress, bob.address, 60_000n));
  await expectRevert(
    bond(alice).transfer(bob.address, 20_000n),
    "above the maximum holding of 100000",
    "transfer above the maximum holding",
  );
  await sent(assets(regulator).setFrozen(tokenAddress, bob.address, true));
  await expectRevert(bond(bob).transfer(alice.address, 1n), "is frozen for B30", "frozen sender");
  await expectRevert(bond(alice).transfer(bob.address, 1n), "is frozen for B30", "frozen recipient");
  await sent(assets(issuer).setPaused(tokenAddress, true));
  await expectRevert(bond(alice).transfer(issuer.address, 1n), "B30 is paused", "paused asset");
  await sent(assets(issuer).setPaused(tokenAddress, false));
  await expectRevert(
    assets(alice).setFrozen(tokenAddress, bob.address, false),
    "only B30's issuer or regulator",
    "unfreeze by a holder",
  );

  // --- clawback by the regulator, with its reason on record ---
  await expectRevert(
    assets(issuer).clawback(tokenAddress, bob.address, 10_000n, "court order 17"),
    "only B30's regulator may claw back",
    "clawback by the issuer",
  );
  const clawed = await sent(
    assets(regulator).clawback(tokenAddress, bob.address, 10_000n, "court order 17"),
  );
  const clawback = clawed.logs
    .map((l) => { try { return iface.parseLog(l); } catch { return null; } })
    .find((l) => l?.name === "Clawback");
  assert.equal(clawback.args.reason, "court order 17");
  assert.equal(await bond(alice).balanceOf(bob.address), 80_000n);
  assert.equal(await bond(alice).balanceOf(issuer.address), 10_000n);
  await sent(assets(regulator).setFrozen(tokenAddress, bob.address, false));

  // --- purpose-bound money: only tagged suppliers may be paid ---
  const agri = await sent(
    assets(issuer).issue("Farm credit", "AGRI", 2, 1_000_000n, regulator.address, {
      allowlist: false,
      maxHolding: 0n,
      purpose: "agriculture",
    }),
  );
  const agriToken = agri.logs.map((l) => { try { return iface.parseLog(l); } catch { return null; } })
    .find((l) => l?.name === "AssetIssued").args.token;
  const credit = (who) => new ethers.Contract(agriToken, ERC20_ABI, who);
  await sent(assets(issuer).mint(agriToken, carol.address, 5_000n));
  await expectRevert(
    credit(carol).transfer(alice.address, 100n),
    "may only be paid to accounts tagged 'agriculture'",
    "purpose-bound payment to an untagged account",
  );
  await sent(assets(regulator).setTagged(agriToken, alice.address, true));
  await sent(credit(carol).transfer(alice.address, 100n));

  // --- delivery versus payment: 1,000 B30 from alice for 1 ETH from carol ---
  await sent(assets(regulator).setAllowed(tokenAddress, carol.address, true));
  const settlement = (who) => new ethers.Contract(SETTLEMENT, SETTLEMENT_ABI, who);
  const domain = { name: "Tally Settlement", version: "1", chainId, verifyingContract: SETTLEMENT };
  const now = BigInt(Math.floor(Date.now() / 1000));
  const instruction = (amountB, expiry, nonce) => ({
    partyA: alice.address,
    partyB: carol.address,
    assetA: tokenAddress,
    amountA: 1_000n,
    assetB: ethers.ZeroAddress,
    amountB,
    expiry,
    nonce,
  });
  const sign = (who, ins) => who.signTypedData(domain, TYPES, ins);
  assert.equal(
    await settlement(alice).digestOf(instruction(1n, now + 600n, 1n)),
    ethers.TypedDataEncoder.hash(domain, TYPES, instruction(1n, now + 600n, 1n)),
    "the contract's digest is the EIP-712 hash ethers computes",
  );
  // Carol cannot pay 10^30 wei: neither leg moves.
  const tooDear = instruction(10n ** 30n, now + 600n, 2n);
  const aliceBefore = await bond(alice).balanceOf(alice.address);
  const carolEthBefore = await provider.getBalance(carol.address);
  await expectRevert(
    settlement(alice).settle(tooDear, await sign(alice, tooDear), await sign(carol, tooDear)),
    "cannot move",
    "DvP whose payment leg lacks funds",
  );
  assert.equal(await bond(alice).balanceOf(alice.address), aliceBefore, "no delivery without payment");
  assert.equal(await provider.getBalance(carol.address), carolEthBefore, "no payment either");

  const good = instruction(ethers.parseEther("1"), now + 600n, 3n);
  const sigA = await sign(alice, good);
  const sigB = await sign(carol, good);
  const aliceEth = await provider.getBalance(alice.address);
  // Carol submits; her own signature may be left empty.
  await sent(settlement(carol).settle(good, sigA, "0x"));
  assert.equal(await bond(alice).balanceOf(carol.address), 1_000n, "delivery");
  assert.equal(
    await provider.getBalance(alice.address),
    aliceEth + ethers.parseEther("1"),
    "payment (alice paid no gas: carol submitted)",
  );
  const id = ethers.TypedDataEncoder.hash(domain, TYPES, good);
  assert.ok((await settlement(alice).settledAt(id)) > 0n, "settledAt records the block");
  await expectRevert(settlement(alice).settle(good, sigA, sigB), "already settled", "a replayed instruction");
  const stale = instruction(1n, now - 3600n, 4n);
  await expectRevert(
    settlement(alice).settle(stale, await sign(alice, stale), await sign(carol, stale)),
    "expired at",
    "an expired instruction",
  );
  const forged = instruction(1n, now + 600n, 5n);
  await expectRevert(
    settlement(alice).settle(forged, await sign(alice, forged), await sign(bob, forged)),
    "was made by",
    "a payment leg signed by the wrong party",
  );

  // --- a netted batch: carol pays alice 500 B30 she only gets from the second instruction ---
  const first = { partyA: carol.address, partyB: alice.address, assetA: tokenAddress, amountA: 1_500n,
    assetB: ethers.ZeroAddress, amountB: 1n, expiry: now + 600n, nonce: 6n };
  const second = { partyA: alice.address, partyB: carol.address, assetA: tokenAddress, amountA: 2_000n,
    assetB: ethers.ZeroAddress, amountB: 2n, expiry: now + 600n, nonce: 7n };
  const batch = [first, second];
  const sigsA = await Promise.all(batch.map((b) => sign(b.partyA === alice.address ? alice : carol, b)));
  const sigsB = await Promise.all(batch.map((b) => sign(b.partyB === alice.address ? alice : carol, b)));
  const carolBond = await bond(alice).balanceOf(carol.address);
  await sent(settlement(bob).settleBatch(batch, sigsA, sigsB));
  assert.equal(await bond(alice).balanceOf(carol.address), carolBond + 500n, "carol nets +500");

  // --- a ballot: weights are the balances at the snapshot ---
  const ballots = (who) => new ethers.Contract(BALLOTS, BALLOTS_ABI, who);
  const end = BigInt(await provider.getBlockNumber()) + 50n;
  await sent(ballots(issuer).open(tokenAddress, "Extend the maturity?", ["yes", "no"], end));
  const aliceAtSnapshot = await bond(alice).balanceOf(alice.address);
  const bobAtSnapshot = await bond(alice).balanceOf(bob.address);
  // Moving shares after the snapshot gives no extra votes.
  await sent(bond(alice).transfer(bob.address, 100n));
  await sent(ballots(alice).vote(1n, 0));
  await sent(ballots(bob).vote(1n, 1));
  await expectRevert(ballots(alice).vote(1n, 1), "already voted", "a second vote");
  const ballot = await ballots(alice).getBallot(1n);
  assert.equal(ballot.question, "Extend the maturity?");
  assert.deepEqual([...ballot.tallies], [aliceAtSnapshot, bobAtSnapshot]);
  assert.equal(ballot.voters, 2n);

  // Regulators see every holder.
  const [holders] = await assets(alice).holders(tokenAddress, 0n, 100n);
  for (const who of [alice, bob, carol]) assert.ok(holders.includes(who.address), `${who.address} listed`);

  console.log("all checks passed");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
