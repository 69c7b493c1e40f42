//! `tally key new|list|import|inspect`: account keys in a keystore directory.

use std::{
    io::{IsTerminal, Read},
    path::PathBuf,
};

use anyhow::{bail, Context as _};
use tally_crypto::{address_of, keystore, SecretKey};

use super::{
    parse::parse_address,
    wallet::{parse_private_key, KeystoreArgs},
};

#[derive(clap::Subcommand)]
pub enum KeyCommand {
    /// Create a new random key and store it encrypted in the keystore.
    New {
        #[command(flatten)]
        keystore: KeystoreArgs,
    },
    /// List the addresses in the keystore.
    List {
        #[command(flatten)]
        keystore: KeystoreArgs,
    },
    /// Import a hex private key, read from stdin or --private-key-file.
    Import {
        /// File holding the hex private key (default: read stdin).
        #[arg(long, value_name = "FILE")]
        private_key_file: Option<PathBuf>,
        #[command(flatten)]
        keystore: KeystoreArgs,
    },
    /// Decrypt a key and show its address (and, on request, the private key).
    Inspect {
        /// Address of a key in the keystore, or the path of a keystore file.
        key: String,
        /// Also print the private key.
        #[arg(long)]
        show_private: bool,
        #[command(flatten)]
        keystore: KeystoreArgs,
    },
}

pub fn run(cmd: KeyCommand) -> anyhow::Result<()> {
    match cmd {
        KeyCommand::New { keystore } => store(&keystore, &random_key()),
        KeyCommand::List { keystore: ks } => {
            let dir = ks.dir()?;
            let found = keystore::scan(&dir)?;
            for (path, why) in &found.skipped {
                eprintln!("warning: skipped {}: {why}", path.display());
            }
            if found.keys.is_empty() {
                eprintln!("no keys in {}", dir.display());
            }
            for (address, path) in found.keys {
                println!("{address}  {}", path.display());
            }
            Ok(())
        }
        KeyCommand::Import {
            private_key_file,
            keystore,
        } => {
            let key = read_private_key(private_key_file.as_deref())?;
            let dir = keystore.dir()?;
            let address = address_of(&key);
            if let Ok(existing) = keystore::find(&dir, &address) {
                bail!(
                    "address {address} is already in the keystore: {}",
                    existing.display()
                );
            }
            store(&keystore, &key)
        }
        KeyCommand::Inspect {
            key,
            show_private,
            keystore: ks,
        } => {
            let path = locate(&ks, &key)?;
            let password = ks.password(&format!("Password for {}: ", path.display()), false)?;
            let secret = keystore::decrypt_key(&path, &password)?;
            println!("address: {}", address_of(&secret));
            println!("file:    {}", path.display());
            if show_private {
                println!("private key: 0x{}", hex::encode(secret.to_secret_bytes()));
            }
            Ok(())
        }
    }
}

/// A uniformly random valid secret key (a random 32 bytes is out of range
/// with probability about 2^-128; draw again then).
fn random_key() -> SecretKey {
    use rand::RngCore;
    loop {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        if let Ok(key) = tally_crypto::secret_key(&bytes) {
            return key;
        }
    }
}

fn store(args: &KeystoreArgs, key: &SecretKey) -> anyhow::Result<()> {
    let dir = args.dir()?;
    let password = args.password("New password: ", true)?;
    let (path, address) = keystore::encrypt_key(&dir, key, &password)?;
    println!("address: {address}");
    println!("file:    {}", path.display());
    Ok(())
}

/// The key of `tally key inspect`: an address in the keystore, or a file.
fn locate(args: &KeystoreArgs, key: &str) -> anyhow::Result<PathBuf> {
    let as_path = PathBuf::from(key);
    if as_path.is_file() {
        return Ok(as_path);
    }
    let address = parse_address(key)
        .with_context(|| format!("{key:?} is neither a keystore file nor an address"))?;
    Ok(keystore::find(&args.dir()?, &address)?)
}

fn read_private_key(file: Option<&std::path::Path>) -> anyhow::Result<SecretKey> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read --private-key-file {}", path.display()))?,
        None if std::io::stdin().is_terminal() => rpassword::prompt_password("Private key (hex): ")
            .context("cannot read the private key")?,
        None => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the private key from stdin")?;
            text
        }
    };
    let source = match file {
        Some(path) => format!("--private-key-file {}", path.display()),
        None => "stdin".to_string(),
    };
    parse_private_key(&text).with_context(|| format!("from {source}"))
}
