//! The storage codecs, as a damaged database hands them any bytes:
//! accounts, changesets, RLP records (headers, bodies, receipts, side
//! blocks) and the numbers inside keys and values. Each must refuse what
//! it cannot read, and what it reads must survive a round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tally_primitives::{Header, Receipt};
use tally_storage::{
    codec::{self, Changeset, StoredBody, StoredSideBlock},
    keys,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(account) = codec::decode_account(data) {
        assert_eq!(
            codec::decode_account(&codec::encode_account(&account)),
            Ok(account)
        );
    }
    if let Ok(account) = codec::decode_opt_account(data) {
        let again = codec::decode_opt_account(&codec::encode_opt_account(&account));
        assert_eq!(again, Ok(account));
    }
    if let Ok(changeset) = Changeset::decode(data) {
        assert_eq!(Changeset::decode(&changeset.encode()), Ok(changeset));
    }
    let _ = codec::decode_rlp::<Header>("header", 0, data);
    let _ = codec::decode_rlp::<StoredBody>("block body", 0, data);
    let _ = codec::decode_rlp::<Vec<Receipt>>("receipts", 0, data);
    let _ = codec::decode_rlp::<StoredSideBlock>("side block", 0, data);
    if let Some(number) = keys::history_key_block(data) {
        assert_eq!(data[data.len() - 8..], number.to_be_bytes());
    }
    if let Ok(value) = <[u8; 16]>::try_from(data) {
        let (number, index) = keys::decode_tx_lookup(&value);
        assert_eq!(keys::tx_lookup_value(number, index), value);
    }
});
