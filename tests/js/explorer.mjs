// The block explorer in a real headless Chromium, driven over WebDriver
// (selenium-webdriver with Debian's chromium and chromium-driver; nothing
// is downloaded). Run by crates/cli/tests/explorer_browser.rs against a
// `tally dev` whose chain holds an ERC-20 transfer and a notarized file:
//
//   TALLY_EXPLORER=http://127.0.0.1:8080 TALLY_RPC=http://127.0.0.1:8545 \
//   TALLY_BLOCK=… TALLY_TX=… TALLY_ADDRESS=… TALLY_TOKEN=… \
//   TALLY_DOCUMENT_FILE=… TALLY_SCREENSHOTS=target/explorer-screenshots \
//   CHROMIUM=/usr/bin/chromium CHROMEDRIVER=/usr/bin/chromedriver \
//   node tests/js/explorer.mjs
//
// Checks: the home page loads with no console errors and updates live
// when a block arrives; search finds a block, a transaction and an
// address; the transaction page shows the decoded ERC-20 transfer; the SQL
// console runs a query; the notary page hashes a file in the browser and
// finds its stamp. Saves a screenshot of each page. Exits non-zero on the
// first failure.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ethers } from "ethers";
import { Builder, By, logging, until } from "selenium-webdriver";
import chrome from "selenium-webdriver/chrome.js";

function env(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set (see the comment at the top of explorer.mjs)`);
    process.exit(2);
  }
  return value;
}

const base = env("TALLY_EXPLORER");
const rpc = env("TALLY_RPC");
const block = env("TALLY_BLOCK");
const tx = env("TALLY_TX");
const address = env("TALLY_ADDRESS");
const token = env("TALLY_TOKEN");
const documentFile = env("TALLY_DOCUMENT_FILE");
const shots = env("TALLY_SCREENSHOTS");
// Account 2 of the test mnemonic, funded by `tally dev` and unused by the
// Rust side: it sends the transaction the live home page must show.
const KEY2 = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const WAIT = 15000;

mkdirSync(shots, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), "tally-chromium-"));
const options = new chrome.Options();
options.setChromeBinaryPath(env("CHROMIUM"));
options.addArguments(
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-extensions",
  "--window-size=1366,1000",
  `--user-data-dir=${profile}`,
);
const prefs = new logging.Preferences();
prefs.setLevel(logging.Type.BROWSER, logging.Level.ALL);
options.setLoggingPrefs(prefs);

const driver = await new Builder()
  .forBrowser("chrome")
  .setChromeOptions(options)
  .setChromeService(new chrome.ServiceBuilder(env("CHROMEDRIVER")))
  .build();

/** Fails on any console message at SEVERE since the last check. */
async function noConsoleErrors(where) {
  const entries = await driver.manage().logs().get(logging.Type.BROWSER);
  const severe = entries.filter((e) => e.level.value >= logging.Level.SEVERE.value);
  assert.deepEqual(
    severe.map((e) => e.message),
    [],
    `console errors on ${where}`,
  );
}

async function screenshot(name) {
  writeFileSync(join(shots, `${name}.png`), await driver.takeScreenshot(), "base64");
}

async function text(css) {
  return driver.wait(until.elementLocated(By.css(css)), WAIT).getText();
}

/** Types `q` into the header's search box and submits it. */
async function search(q) {
  const box = await driver.findElement(By.css("header form.search input[name=q]"));
  await box.clear();
  await box.sendKeys(q);
  await box.submit();
}

async function waitForUrl(suffix) {
  await driver.wait(async () => (await driver.getCurrentUrl()).endsWith(suffix), WAIT,
    `the browser did not reach …${suffix}`);
}

try {
  // Home: loads clean, then follows a new block without a reload.
  await driver.get(`${base}/`);
  await driver.wait(until.elementLocated(By.css("#latest-blocks table")), WAIT);
  assert.match(await driver.getTitle(), /Latest blocks · Tally Explorer/);
  const chartBars = await driver.findElements(By.css("#chart svg rect.bar"));
  assert.ok(chartBars.length > 0, "the throughput chart has no bars");
  const live = await driver.findElement(By.id("live"));
  const headBefore = Number(await live.getAttribute("data-head"));
  const wallet = new ethers.Wallet(KEY2, new ethers.JsonRpcProvider(rpc));
  const sent = await wallet.sendTransaction({ to: address, value: 12345n });
  await sent.wait();
  await driver.wait(async () => Number(await live.getAttribute("data-head")) > headBefore, WAIT,
    "the home page did not update when a block arrived");
  await driver.wait(async () => (await text("#latest-txs")).includes(sent.hash.slice(0, 6)), WAIT);
  const fresh = await driver.findElements(By.css(`#latest-txs a[href="/tx/${sent.hash}"]`));
  assert.equal(fresh.length, 1, "the new transaction is not in the latest transactions");
  assert.equal(await live.getText(), "live");
  await screenshot("home");
  await noConsoleErrors("the home page");

  // Search: a block number, a transaction hash, an address.
  await search(block);
  await waitForUrl(`/block/${block}`);
  assert.match(await text("h1"), new RegExp(`Block ${Number(block).toLocaleString("en-US")}`));
  await screenshot("block");
  await noConsoleErrors("the block page");

  await search(tx);
  await waitForUrl(`/tx/${tx}`);
  const txPage = await text("main");
  assert.ok(txPage.includes("transfer(address to, uint256 value)"), "no decoded transfer call");
  assert.ok(txPage.includes("Transfer(address from, address to, uint256 value)"), "no decoded Transfer log");
  assert.ok(txPage.includes("1,234.5 TST"), "the token transfer's amount is missing");
  await screenshot("transaction");
  await noConsoleErrors("the transaction page");

  await search(address.toLowerCase());
  await driver.wait(async () => (await driver.getCurrentUrl()).toLowerCase().endsWith(`/address/${address.toLowerCase()}`), WAIT);
  assert.ok((await text("main")).includes("1,234.5 TST"), "the address page lacks its token balance");
  await screenshot("address");
  await noConsoleErrors("the address page");

  await driver.get(`${base}/token/${token}`);
  assert.ok((await text("main")).includes("Test Token"));
  await screenshot("token");

  // The SQL console, through its form.
  await driver.get(`${base}/sql`);
  const area = await driver.findElement(By.css("textarea[name=q]"));
  await area.clear();
  await area.sendKeys("SELECT number, tx_count FROM blocks ORDER BY number DESC LIMIT 5");
  await driver.findElement(By.css("form.sql-form button[type=submit]")).click();
  await driver.wait(until.elementLocated(By.css("#sql-result table")), WAIT);
  const rows = await driver.findElements(By.css("#sql-result tbody tr"));
  assert.equal(rows.length, 5, "the SQL console did not show 5 rows");
  assert.match(await text("#sql-result thead"), /NUMBER\s+TX_COUNT/i);
  await screenshot("sql");
  await noConsoleErrors("the SQL console");

  // The notary: the file is hashed in the browser and its stamp found.
  await driver.get(`${base}/notary`);
  const drop = await driver.findElement(By.id("dropzone"));
  assert.ok(await drop.isDisplayed(), "no file drop zone: crypto.subtle should exist on 127.0.0.1");
  await driver.findElement(By.id("file")).sendKeys(documentFile);
  await driver.wait(async () => (await text("#notary-result")).includes("Stamped"), WAIT,
    "the notary page did not find the file's stamp");
  assert.ok((await text("#notary-result")).includes("invoices"));
  await screenshot("notary");
  await noConsoleErrors("the notary page");

  await driver.get(`${base}/consensus`);
  assert.ok((await text("main")).includes("Finalized"));
  await screenshot("consensus");
  await noConsoleErrors("the consensus page");

  console.log(`all checks passed; screenshots in ${shots}`);
} finally {
  await driver.quit();
  rmSync(profile, { recursive: true, force: true });
}
