//! Where keys come from: the keystore directory, passwords, and the signer
//! options shared by `tally tx` and `tally contract`.
//!
//! Secrets never come from argv (other users can read it in `ps`): a
//! password comes from `--password-file`, `TALLY_PASSWORD`, or a hidden
//! prompt; a raw private key from an environment variable named on the
//! command line.

use std::{
    io::IsTerminal,
    path::{Path, PathBuf},
};

use alloy_primitives::Address;
use anyhow::{anyhow, bail, Context as _};
use tally_crypto::{address_of, keystore, mnemonic, secret_key, SecretKey};

use super::parse::{parse_address, parse_hex};

/// `--keystore DIR` and `--password-file FILE`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct KeystoreArgs {
    /// Keystore directory [default: ~/.tally/keystore].
    #[arg(long, env = "TALLY_KEYSTORE", value_name = "DIR")]
    pub keystore: Option<PathBuf>,
    /// Read the keystore password from the first line of this file
    /// (otherwise from TALLY_PASSWORD, otherwise a prompt).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

impl KeystoreArgs {
    pub fn dir(&self) -> anyhow::Result<PathBuf> {
        if let Some(dir) = &self.keystore {
            return Ok(dir.clone());
        }
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .ok_or_else(|| anyhow!("HOME is not set: pass --keystore DIR or set TALLY_KEYSTORE"))?;
        Ok(Path::new(&home).join(".tally").join("keystore"))
    }

    /// The password, from the file, the environment or a prompt; `confirm`
    /// asks twice at a prompt (for a new key).
    pub fn password(&self, prompt: &str, confirm: bool) -> anyhow::Result<String> {
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --password-file {}", path.display()))?;
            return Ok(text.lines().next().unwrap_or("").to_string());
        }
        if let Ok(pw) = std::env::var("TALLY_PASSWORD") {
            return Ok(pw);
        }
        if !std::io::stdin().is_terminal() {
            bail!("no password given: use --password-file FILE or set TALLY_PASSWORD (no terminal to prompt on)");
        }
        let first = rpassword::prompt_password(prompt).context("cannot read the password")?;
        if confirm {
            let again = rpassword::prompt_password("Repeat password: ")
                .context("cannot read the password")?;
            if again != first {
                bail!("the passwords do not match");
            }
        }
        Ok(first)
    }
}

/// Parses a hex private key (with or without `0x`, surrounding whitespace
/// ignored). The error never echoes the input: it may be a real key.
pub fn parse_private_key(text: &str) -> anyhow::Result<SecretKey> {
    let bytes = parse_hex("private key", text)
        .map_err(|_| anyhow!("invalid private key: expected 64 hex characters"))?;
    secret_key(&bytes).map_err(|e| anyhow!("invalid private key: {e}"))
}

/// Who signs a transaction.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SignerArgs {
    /// Sign with the keystore key of this address.
    #[arg(long, value_name = "ADDRESS", conflicts_with_all = ["private_key_env", "dev_account"])]
    pub from: Option<String>,
    /// Sign with the hex private key held in this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "dev_account")]
    pub private_key_env: Option<String>,
    /// Sign with account N of the test mnemonic (dev chains only).
    #[arg(long, value_name = "N")]
    pub dev_account: Option<u32>,
    #[command(flatten)]
    pub keystore: KeystoreArgs,
}

impl SignerArgs {
    pub fn is_set(&self) -> bool {
        self.from.is_some() || self.private_key_env.is_some() || self.dev_account.is_some()
    }

    /// The signer's address, without decrypting a keystore.
    pub fn address(&self) -> anyhow::Result<Option<Address>> {
        if let Some(from) = &self.from {
            return parse_address(from).map(Some);
        }
        if self.is_set() {
            return self.key().map(|k| Some(address_of(&k)));
        }
        Ok(None)
    }

    /// The signing key; an error saying which flags to use when none is set.
    pub fn key(&self) -> anyhow::Result<SecretKey> {
        if let Some(from) = &self.from {
            let address = parse_address(from)?;
            let dir = self.keystore.dir()?;
            let path = keystore::find(&dir, &address)?;
            let password = self
                .keystore
                .password(&format!("Password for {address}: "), false)?;
            return Ok(keystore::decrypt_key(&path, &password)?);
        }
        if let Some(var) = &self.private_key_env {
            let value = std::env::var(var).map_err(|_| {
                anyhow!("--private-key-env {var}: environment variable {var} is not set")
            })?;
            return parse_private_key(&value)
                .with_context(|| format!("in environment variable {var}"));
        }
        if let Some(n) = self.dev_account {
            return mnemonic::derive_key(mnemonic::TEST_MNEMONIC, n)
                .map_err(|e| anyhow!("--dev-account {n}: {e}"));
        }
        bail!("no signer: use --from ADDRESS (keystore), --private-key-env VAR, or --dev-account N")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_account_signer() {
        let signer = SignerArgs {
            dev_account: Some(1),
            ..Default::default()
        };
        assert_eq!(
            signer.address().unwrap().unwrap(),
            parse_address("0x70997970C51812dc3A010C7d01b50e0d17dc79C8").unwrap()
        );
        assert!(SignerArgs::default().address().unwrap().is_none());
        let err = SignerArgs::default().key().unwrap_err().to_string();
        assert!(err.contains("--dev-account"), "{err}");
    }

    #[test]
    fn private_key_errors_do_not_echo_the_key() {
        let err = parse_private_key("0xsecretsecret").unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
        let key = parse_private_key(
            " 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n",
        )
        .unwrap();
        assert_eq!(
            address_of(&key),
            parse_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266").unwrap()
        );
        assert!(parse_private_key(&"00".repeat(32)).is_err());
    }
}
