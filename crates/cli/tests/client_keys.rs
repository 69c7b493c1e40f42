//! `tally key …` run as a process against a temporary keystore directory.

use std::{
    io::Write,
    path::Path,
    process::{Command, Output, Stdio},
};

const KEY0: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const ADDR0: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

/// Runs `tally args…` with a clean environment for the keystore and
/// password variables, feeding `stdin`.
fn tally(args: &[&str], envs: &[(&str, &str)], stdin: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tally"));
    cmd.args(args)
        .env_remove("TALLY_KEYSTORE")
        .env_remove("TALLY_PASSWORD")
        .env_remove("TALLY_RPC")
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn tally");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for tally")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ks(dir: &Path) -> String {
    dir.display().to_string()
}

#[test]
fn import_list_inspect_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let keys = ks(&dir.path().join("keys"));
    let pw = [("TALLY_PASSWORD", "correct horse")];

    let out = tally(
        &["key", "import", "--keystore", &keys],
        &pw,
        &format!("0x{KEY0}\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(ADDR0), "{}", stdout(&out));

    // Importing the same key twice is refused.
    let out = tally(&["key", "import", "--keystore", &keys], &pw, KEY0);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("already in the keystore"),
        "{}",
        stderr(&out)
    );

    // The keystore location may also come from TALLY_KEYSTORE.
    let out = tally(&["key", "list"], &[("TALLY_KEYSTORE", &keys)], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let listed = stdout(&out);
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.starts_with(ADDR0), "{listed}");
    assert!(listed.contains("UTC--"), "{listed}");

    let out = tally(&["key", "inspect", ADDR0, "--keystore", &keys], &pw, "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(ADDR0));
    assert!(
        !stdout(&out).contains(KEY0),
        "private key shown without --show-private"
    );

    let out = tally(
        &[
            "key",
            "inspect",
            ADDR0,
            "--keystore",
            &keys,
            "--show-private",
        ],
        &pw,
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("0x{KEY0}")));
}

#[test]
fn new_key_with_password_file_then_inspect_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let keys = ks(&dir.path().join("keys"));
    let pw_file = dir.path().join("pw.txt");
    std::fs::write(&pw_file, "s3cret\n").unwrap();
    let pw_arg = pw_file.display().to_string();

    let out = tally(
        &[
            "key",
            "new",
            "--keystore",
            &keys,
            "--password-file",
            &pw_arg,
        ],
        &[],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let address = text
        .lines()
        .find_map(|l| l.strip_prefix("address: "))
        .expect("address line")
        .trim()
        .to_string();
    let file = text
        .lines()
        .find_map(|l| l.strip_prefix("file:    "))
        .expect("file line")
        .trim()
        .to_string();
    assert!(
        file.ends_with(&address[2..].to_lowercase()),
        "{file} {address}"
    );

    // The trailing newline of the password file is not part of the password.
    let out = tally(
        &["key", "inspect", &file, "--password-file", &pw_arg],
        &[],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&address));

    // Two keys now? No: one. A second `new` adds a second one.
    let out = tally(
        &[
            "key",
            "new",
            "--keystore",
            &keys,
            "--password-file",
            &pw_arg,
        ],
        &[],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = tally(&["key", "list", "--keystore", &keys], &[], "");
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));

    // Files that are not keystores are listed as skipped, each by name.
    std::fs::write(dir.path().join("keys/notes.txt"), "my keys are elsewhere").unwrap();
    std::fs::write(dir.path().join("keys/broken.json"), "{\"address\": 5}").unwrap();
    let out = tally(&["key", "list", "--keystore", &keys], &[], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 2, "{}", stdout(&out));
    let err = stderr(&out);
    for name in ["notes.txt", "broken.json"] {
        assert!(
            err.lines().any(|l| l.starts_with("warning: skipped ")
                && l.contains(name)
                && l.contains("not a keystore file")),
            "{err}"
        );
    }
}

#[test]
fn wrong_password_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let keys = ks(dir.path());
    let out = tally(
        &["key", "import", "--keystore", &keys],
        &[("TALLY_PASSWORD", "right")],
        KEY0,
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let out = tally(
        &["key", "inspect", ADDR0, "--keystore", &keys],
        &[("TALLY_PASSWORD", "wrong")],
        "",
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("wrong password for keystore"), "{err}");
    assert!(err.contains(&keys), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let keys = ks(dir.path());
    let pw = [("TALLY_PASSWORD", "pw")];

    // A bad private key is refused without echoing it.
    let out = tally(&["key", "import", "--keystore", &keys], &pw, "0xnotakey");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("invalid private key"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("notakey"), "{}", stderr(&out));

    // No password source and no terminal: say how to give one.
    let out = tally(&["key", "new", "--keystore", &keys], &[], "");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("TALLY_PASSWORD"), "{}", stderr(&out));

    // An address not in the keystore.
    let other = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    let out = tally(&["key", "inspect", other, "--keystore", &keys], &pw, "");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no keystore for address"),
        "{}",
        stderr(&out)
    );

    // Neither a file nor an address.
    let out = tally(&["key", "inspect", "0x12", "--keystore", &keys], &pw, "");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("\"0x12\""), "{}", stderr(&out));

    // A corrupt keystore file names the file.
    let bad = dir.path().join("broken.json");
    std::fs::write(&bad, "{\"crypto\": 5}").unwrap();
    let bad_arg = bad.display().to_string();
    let out = tally(&["key", "inspect", &bad_arg], &pw, "");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("broken.json"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));

    // An empty keystore lists nothing, successfully.
    let empty = dir.path().join("empty");
    let out = tally(&["key", "list", "--keystore", &ks(&empty)], &[], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
}
