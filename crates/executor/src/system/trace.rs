//! The traceability contract ([`ITallyTrace`]): registries of parties with
//! supply-chain roles ([`TraceRole`]), products a registry's manufacturer
//! registers, and the events its parties append to them.
//!
//! The slot an offline proof covers is fixed in
//! [`tally_verify::records::trace`]: one hash chain per product, started by
//! its registration and extended by each event, so one storage proof covers
//! a product's whole history. The clear fields sit in other slots for the
//! views, and the checker recomputes the chain from them.

use super::{
    abi::ITallyTrace::{self, ITallyTraceCalls as Calls},
    assets::{emit, writing},
    notary::{pack, unpack},
    read_at, revert,
    store::{addr_word, slot, word_addr, Store, MAX_STRING},
    CallCtx, Slots, SysError, TRACE,
};
use crate::{StateSource, StateSourceError};
use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolCall, SolInterface};
use tally_verify::records::{
    trace::{head_slot, next_head, product_key, registration_head},
    TraceRole,
};
use tally_verify::{ProductRecord, TraceEventRecord};

/// Longest registry name, product ID or status, bytes.
pub const MAX_NAME: usize = 128;
/// Longest location, bytes.
pub const MAX_LOCATION: usize = 256;
/// Longest product description, bytes.
pub const MAX_DESCRIPTION: usize = MAX_STRING;
/// Most document hashes one event may carry.
pub const MAX_EVENT_DOCUMENTS: usize = 16;

fn registry_count_slot() -> U256 {
    slot("registries", &[])
}

fn admin_slot(id: u64) -> U256 {
    slot("registryAdmin", &[U256::from(id)])
}

fn name_slot(id: u64) -> U256 {
    slot("registryName", &[U256::from(id)])
}

fn role_slot(id: u64, party: Address) -> U256 {
    slot("role", &[U256::from(id), addr_word(party)])
}

/// Registry, block number and timestamp of a product, in one word (never
/// zero for a registered product: registries count from 1).
fn product_slot(key: B256) -> U256 {
    slot("product", &[key.into()])
}

fn manufacturer_slot(key: B256) -> U256 {
    slot("productManufacturer", &[key.into()])
}

fn description_slot(key: B256) -> U256 {
    slot("productDescription", &[key.into()])
}

fn event_count_slot(key: B256) -> U256 {
    slot("eventCount", &[key.into()])
}

fn event_slot(tag: &str, key: B256, index: u64) -> U256 {
    slot(tag, &[key.into(), U256::from(index)])
}

fn document_slot(key: B256, index: u64, i: u64) -> U256 {
    slot(
        "eventDocument",
        &[key.into(), U256::from(index), U256::from(i)],
    )
}

pub(crate) fn call(
    slots: &mut dyn Slots,
    ctx: &CallCtx,
    input: &[u8],
) -> Result<Vec<u8>, SysError> {
    let Ok(call) = Calls::abi_decode(input) else {
        return revert("unknown ITallyTrace function or malformed arguments");
    };
    let mut s = Store::new(slots, TRACE);
    let s = &mut s;
    use ITallyTrace as T;
    match call {
        Calls::createRegistry(c) => {
            writing(ctx)?;
            let id = create_registry(s, ctx, c.name)?;
            Ok(T::createRegistryCall::abi_encode_returns(&id))
        }
        Calls::authorize(c) => {
            writing(ctx)?;
            authorize(s, ctx, c.registry, c.party, c.role)?;
            Ok(Vec::new())
        }
        Calls::registerProduct(c) => {
            writing(ctx)?;
            register_product(s, ctx, c)?;
            Ok(Vec::new())
        }
        Calls::appendEvent(c) => {
            writing(ctx)?;
            append_event(s, ctx, c)?;
            Ok(Vec::new())
        }
        Calls::registry(c) => {
            let (admin, name) = read_registry(s, c.id)?.unwrap_or_default();
            Ok(T::registryCall::abi_encode_returns(&T::registryReturn {
                admin,
                name,
            }))
        }
        Calls::roleOf(c) => Ok(T::roleOfCall::abi_encode_returns(&read_role(
            s, c.registry, c.party,
        )?)),
        Calls::product(c) => {
            let key = product_key(&c.productId);
            let r = match read_product(s, key)? {
                Some(p) => T::productReturn {
                    registry: p.registry,
                    manufacturer: p.manufacturer,
                    timestamp: p.timestamp,
                    blockNumber: p.block_number,
                    description: p.description,
                    eventCount: s.get_u64(event_count_slot(key))?,
                },
                None => T::productReturn {
                    registry: 0,
                    manufacturer: Address::ZERO,
                    timestamp: 0,
                    blockNumber: 0,
                    description: String::new(),
                    eventCount: 0,
                },
            };
            Ok(T::productCall::abi_encode_returns(&r))
        }
        Calls::eventAt(c) => {
            check_product_id(&c.productId)?;
            let key = product_key(&c.productId);
            if read_product(s, key)?.is_none() {
                return revert(format!("product {} is not registered", c.productId));
            }
            let count = s.get_u64(event_count_slot(key))?;
            if c.index >= count {
                return revert(format!(
                    "product {} has {count} events: there is no event {}",
                    c.productId, c.index
                ));
            }
            let e = read_event(s, key, c.index)?;
            Ok(T::eventAtCall::abi_encode_returns(&T::eventAtReturn {
                party: e.party,
                role: e.role,
                timestamp: e.timestamp,
                blockNumber: e.block_number,
                status: e.status,
                location: e.location,
                documents: e.documents,
            }))
        }
    }
}

fn create_registry(s: &mut Store<'_>, ctx: &CallCtx, name: String) -> Result<u64, SysError> {
    if name.trim().is_empty() || name.len() > MAX_NAME {
        return revert(format!("a registry needs a name of 1 to {MAX_NAME} bytes"));
    }
    let id = s.get_u64(registry_count_slot())? + 1;
    s.set_u64(registry_count_slot(), id)?;
    s.set(admin_slot(id), addr_word(ctx.caller))?;
    s.set_string(name_slot(id), &name)?;
    emit(
        s,
        &ITallyTrace::RegistryCreated {
            registry: id,
            admin: ctx.caller,
            name,
        },
    )?;
    Ok(id)
}

fn authorize(
    s: &mut Store<'_>,
    ctx: &CallCtx,
    registry: u64,
    party: Address,
    role: u8,
) -> Result<(), SysError> {
    let Some((admin, _)) = read_registry(s, registry)? else {
        return revert(format!("there is no registry {registry}"));
    };
    if ctx.caller != admin {
        return revert(format!(
            "only registry {registry}'s admin {admin} may authorise parties, not {}",
            ctx.caller
        ));
    }
    if role != 0 && TraceRole::from_code(role).is_none() {
        return revert(format!(
            "role {role} is unknown: 0 removes a party, 1 manufacturer, 2 shipper, 3 warehouse, 4 retailer, 5 inspector"
        ));
    }
    s.set_u64(role_slot(registry, party), u64::from(role))?;
    emit(
        s,
        &ITallyTrace::PartyAuthorized {
            registry,
            party,
            role,
        },
    )
}

fn register_product(
    s: &mut Store<'_>,
    ctx: &CallCtx,
    c: ITallyTrace::registerProductCall,
) -> Result<(), SysError> {
    check_product_id(&c.productId)?;
    if c.description.len() > MAX_DESCRIPTION {
        return revert(format!(
            "a description has at most {MAX_DESCRIPTION} bytes, not {}",
            c.description.len()
        ));
    }
    if read_registry(s, c.registry)?.is_none() {
        return revert(format!("there is no registry {}", c.registry));
    }
    if read_role(s, c.registry, ctx.caller)? != TraceRole::Manufacturer.code() {
        return revert(format!(
            "{} is not a manufacturer in registry {}: only manufacturers register products",
            ctx.caller, c.registry
        ));
    }
    let key = product_key(&c.productId);
    if read_product(s, key)?.is_some() {
        return revert(format!("product {} is already registered", c.productId));
    }
    let head = registration_head(
        key,
        c.registry,
        ctx.caller,
        ctx.timestamp,
        ctx.block,
        &c.description,
    );
    s.set(head_slot(key), head.into())?;
    s.set(
        product_slot(key),
        pack(c.registry, ctx.block, ctx.timestamp),
    )?;
    s.set(manufacturer_slot(key), addr_word(ctx.caller))?;
    if !c.description.is_empty() {
        s.set_string(description_slot(key), &c.description)?;
    }
    emit(
        s,
        &ITallyTrace::ProductRegistered {
            product: key,
            registry: c.registry,
            manufacturer: ctx.caller,
            productId: c.productId,
            description: c.description,
        },
    )
}

fn check_product_id(id: &str) -> Result<(), SysError> {
    if id.is_empty() || id.len() > MAX_NAME {
        return revert(format!(
            "a product ID has 1 to {MAX_NAME} bytes, not {}",
            id.len()
        ));
    }
    Ok(())
}

fn append_event(
    s: &mut Store<'_>,
    ctx: &CallCtx,
    c: ITallyTrace::appendEventCall,
) -> Result<(), SysError> {
    check_product_id(&c.productId)?;
    let key = product_key(&c.productId);
    let Some(product) = read_product(s, key)? else {
        return revert(format!("product {} is not registered", c.productId));
    };
    let role = read_role(s, product.registry, ctx.caller)?;
    if role == 0 {
        return revert(format!(
            "{} is not authorised in registry {}, which product {} belongs to",
            ctx.caller, product.registry, c.productId
        ));
    }
    if c.status.trim().is_empty() || c.status.len() > MAX_NAME {
        return revert(format!("a status has 1 to {MAX_NAME} bytes of text"));
    }
    if c.location.len() > MAX_LOCATION {
        return revert(format!(
            "a location has at most {MAX_LOCATION} bytes, not {}",
            c.location.len()
        ));
    }
    if c.documents.len() > MAX_EVENT_DOCUMENTS {
        return revert(format!(
            "an event carries at most {MAX_EVENT_DOCUMENTS} documents, not {}",
            c.documents.len()
        ));
    }
    if let Some(i) = c.documents.iter().position(|d| d.is_zero()) {
        return revert(format!(
            "document {i} of the event is the zero hash: send each document's SHA-256"
        ));
    }
    let prev = s.get_b256(head_slot(key))?;
    let head = next_head(
        prev,
        ctx.caller,
        role,
        ctx.timestamp,
        ctx.block,
        &c.status,
        &c.location,
        &c.documents,
    );
    s.set(head_slot(key), head.into())?;
    let index = s.get_u64(event_count_slot(key))?;
    s.set_u64(event_count_slot(key), index + 1)?;
    s.set(
        event_slot("eventParty", key, index),
        addr_word(ctx.caller) | (U256::from(role) << 160),
    )?;
    s.set(
        event_slot("eventInfo", key, index),
        pack(ctx.block, ctx.timestamp, c.documents.len() as u64),
    )?;
    s.set_string(event_slot("eventStatus", key, index), &c.status)?;
    if !c.location.is_empty() {
        s.set_string(event_slot("eventLocation", key, index), &c.location)?;
    }
    for (i, d) in c.documents.iter().enumerate() {
        s.set(document_slot(key, index, i as u64), (*d).into())?;
    }
    emit(
        s,
        &ITallyTrace::TraceEvent {
            product: key,
            party: ctx.caller,
            index,
            role,
            status: c.status,
            location: c.location,
            documents: c.documents,
        },
    )
}

fn read_registry(s: &mut Store<'_>, id: u64) -> Result<Option<(Address, String)>, SysError> {
    if id == 0 || id > s.get_u64(registry_count_slot())? {
        return Ok(None);
    }
    Ok(Some((
        s.get_addr(admin_slot(id))?,
        s.get_string(name_slot(id))?,
    )))
}

fn read_role(s: &mut Store<'_>, registry: u64, party: Address) -> Result<u8, SysError> {
    let role = s.get_u64(role_slot(registry, party))?;
    u8::try_from(role).map_err(|_| {
        SysError::State(format!(
            "trace role of {party} in registry {registry} is {role}, more than a byte"
        ))
    })
}

fn read_product(s: &mut Store<'_>, key: B256) -> Result<Option<ProductRecord>, SysError> {
    let word = s.get(product_slot(key))?;
    if word.is_zero() {
        return Ok(None);
    }
    let (registry, block_number, timestamp) = unpack(word);
    Ok(Some(ProductRecord {
        registry,
        manufacturer: s.get_addr(manufacturer_slot(key))?,
        timestamp,
        block_number,
        description: s.get_string(description_slot(key))?,
    }))
}

fn read_event(s: &mut Store<'_>, key: B256, index: u64) -> Result<TraceEventRecord, SysError> {
    let party_word = s.get(event_slot("eventParty", key, index))?;
    let (block_number, timestamp, docs) = unpack(s.get(event_slot("eventInfo", key, index))?);
    let mut documents = Vec::new();
    for i in 0..docs.min(MAX_EVENT_DOCUMENTS as u64) {
        documents.push(s.get_b256(document_slot(key, index, i))?);
    }
    Ok(TraceEventRecord {
        // The address is the word's low 20 bytes; the role sits above it.
        party: word_addr(party_word),
        role: u8::try_from(party_word >> 160).unwrap_or(0),
        timestamp,
        block_number,
        status: s.get_string(event_slot("eventStatus", key, index))?,
        location: s.get_string(event_slot("eventLocation", key, index))?,
        documents,
    })
}

/// The registration of product `product_id`, if registered.
pub fn product<S: StateSource + ?Sized>(
    state: &S,
    product_id: &str,
) -> Result<Option<ProductRecord>, StateSourceError> {
    read_at(state, TRACE, |s| read_product(s, product_key(product_id)))
}

/// Every event of product `product_id`, oldest first (none when it is not
/// registered).
pub fn events<S: StateSource + ?Sized>(
    state: &S,
    product_id: &str,
) -> Result<Vec<TraceEventRecord>, StateSourceError> {
    let key = product_key(product_id);
    read_at(state, TRACE, |s| {
        let n = s.get_u64(event_count_slot(key))?;
        (0..n).map(|i| read_event(s, key, i)).collect()
    })
}

/// `party`'s role code in `registry` ([`TraceRole`]); 0 for none.
pub fn role_of<S: StateSource + ?Sized>(
    state: &S,
    registry: u64,
    party: Address,
) -> Result<u8, StateSourceError> {
    read_at(state, TRACE, |s| read_role(s, registry, party))
}

/// The admin and name of registry `id`, if it exists.
pub fn registry<S: StateSource + ?Sized>(
    state: &S,
    id: u64,
) -> Result<Option<(Address, String)>, StateSourceError> {
    read_at(state, TRACE, |s| read_registry(s, id))
}
