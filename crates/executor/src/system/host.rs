//! The precompile provider that runs the system contracts inside revm, next
//! to the Ethereum precompiles.

use super::{contract_at, CallCtx, Slots, SysError, CONTRACTS, SYSTEM_CODE};
use alloy_primitives::{Address, Bytes, Log, LogData, B256, U256};
use alloy_sol_types::{Revert, SolError};
use revm::{
    bytecode::Bytecode,
    context::Cfg,
    context_interface::{
        cfg::GasParams, journaled_state::account::JournaledAccountTr, Block, ContextTr, JournalTr,
    },
    handler::{precompile_output_to_interpreter_result, EthPrecompiles, PrecompileProvider},
    interpreter::{CallInputs, InterpreterResult},
    precompile::{PrecompileHalt, PrecompileOutput},
    primitives::{hardfork::SpecId, AddressSet},
};

/// Gas of the work a system contract does, priced like the EVM's. Storage
/// is priced by revm's own `SLOAD`/`SSTORE` rules (EIP-2929 warm and cold
/// slots, EIP-2200 net metering, EIP-3529 refunds) from the chain's gas
/// table, so a slot read and then written costs what it would in Solidity.
pub(crate) mod gas {
    /// Every call: decoding and dispatch.
    pub const CALL: u64 = 200;
    pub const LOG: u64 = 375;
    pub const LOG_TOPIC: u64 = 375;
    pub const LOG_BYTE: u64 = 8;
    /// Creating a system account (an asset's token address): as CREATE.
    pub const CREATE: u64 = 32_000;
    /// Moving the chain's coin between accounts: as a CALL with value.
    pub const COIN_TRANSFER: u64 = 9_000;
    /// Recovering a signer, as the ECRECOVER precompile.
    pub const ECRECOVER: u64 = 3_000;
}

/// The Ethereum precompiles plus Tally's system contracts.
#[derive(Debug, Clone)]
pub(crate) struct SystemPrecompiles {
    eth: EthPrecompiles,
    warm: AddressSet,
}

impl SystemPrecompiles {
    pub(crate) fn new(spec: SpecId) -> Self {
        let eth = EthPrecompiles::new(spec);
        let warm = Self::warm_set(&eth);
        SystemPrecompiles { eth, warm }
    }

    fn warm_set(eth: &EthPrecompiles) -> AddressSet {
        let mut warm = eth.warm_addresses().clone();
        warm.extend(CONTRACTS.iter().map(|(a, _)| *a));
        warm
    }
}

impl<CTX> PrecompileProvider<CTX> for SystemPrecompiles
where
    CTX: ContextTr<Cfg: Cfg<Spec = SpecId>>,
{
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: SpecId) -> bool {
        let changed = <EthPrecompiles as PrecompileProvider<CTX>>::set_spec(&mut self.eth, spec);
        self.warm = Self::warm_set(&self.eth);
        changed
    }

    fn run(
        &mut self,
        context: &mut CTX,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        let Some(contract) = contract_at(&inputs.bytecode_address) else {
            return <EthPrecompiles as PrecompileProvider<CTX>>::run(
                &mut self.eth,
                context,
                inputs,
            );
        };
        let input: Vec<u8> = inputs.input.as_bytes(context).to_vec();
        let call = CallCtx {
            caller: inputs.caller,
            address: inputs.bytecode_address,
            block: context.block().number().saturating_to(),
            timestamp: context.block().timestamp().saturating_to(),
            chain_id: context.cfg().chain_id(),
            is_static: inputs.is_static,
        };
        let params = context.cfg().gas_params().clone();
        let mut slots = JournalSlots {
            journal: context.journal_mut(),
            params,
            limit: inputs.gas_limit,
            used: 0,
            refund: 0,
            loaded: Vec::new(),
        };
        let result = if inputs.target_address != inputs.bytecode_address {
            Err(SysError::Revert(
                "system contracts cannot be called by DELEGATECALL or CALLCODE".into(),
            ))
        } else if inputs.transfers_value() {
            Err(SysError::Revert(
                "system contracts do not accept value".into(),
            ))
        } else {
            slots.meter(gas::CALL).and_then(|()| {
                // A registry's storage must outlive the call even on a chain
                // whose genesis did not create its account.
                if !call.is_static && CONTRACTS.iter().any(|(a, _)| *a == call.address) {
                    slots.ensure_account(call.address)?;
                }
                contract(&mut slots, &call, &input)
            })
        };
        let (used, refund) = (slots.used, slots.refund);
        let output = match result {
            Ok(data) => {
                // Refunds count only when the call succeeds, as for a frame.
                let mut output = PrecompileOutput::new(used, data.into(), inputs.reservoir);
                output.gas_refunded = refund;
                output
            }
            Err(SysError::Revert(reason)) => {
                let data = Revert { reason }.abi_encode();
                PrecompileOutput::revert(used, data.into(), inputs.reservoir)
            }
            Err(SysError::OutOfGas) => {
                PrecompileOutput::halt(PrecompileHalt::OutOfGas, inputs.reservoir)
            }
            Err(SysError::State(e)) => return Err(e),
        };
        Ok(Some(precompile_output_to_interpreter_result(
            output,
            inputs.gas_limit,
        )))
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }
}

/// Slots inside a transaction: through revm's journal, so a revert undoes
/// them, and metered against the call's gas.
pub(crate) struct JournalSlots<'j, J> {
    journal: &'j mut J,
    /// The chain's gas table: the storage costs of its hard fork.
    params: GasParams,
    limit: u64,
    used: u64,
    /// `SSTORE` refunds earned (or given back) so far.
    refund: i64,
    /// Accounts this call has loaded into the journal: its storage may
    /// only be read once the account is there.
    loaded: Vec<Address>,
}

impl<J> JournalSlots<'_, J> {
    fn meter(&mut self, cost: u64) -> Result<(), SysError> {
        match self.used.checked_add(cost) {
            Some(used) if used <= self.limit => {
                self.used = used;
                Ok(())
            }
            _ => {
                self.used = self.limit;
                Err(SysError::OutOfGas)
            }
        }
    }
}

impl<J: JournalTr> JournalSlots<'_, J> {
    fn load_account(&mut self, address: Address) -> Result<(), SysError> {
        if !self.loaded.contains(&address) {
            self.journal
                .load_account(address)
                .map_err(|e| SysError::State(e.to_string()))?;
            self.loaded.push(address);
        }
        Ok(())
    }
}

impl<J: JournalTr> Slots for JournalSlots<'_, J> {
    fn load(&mut self, address: Address, slot: U256) -> Result<U256, SysError> {
        // A warm read first; the cold surcharge once the journal says so.
        self.meter(self.params.warm_storage_read_cost())?;
        self.load_account(address)?;
        let read = self
            .journal
            .sload(address, slot)
            .map_err(|e| SysError::State(e.to_string()))?;
        if read.is_cold {
            self.meter(self.params.cold_storage_additional_cost())?;
        }
        Ok(read.data)
    }

    fn store(&mut self, address: Address, slot: U256, value: U256) -> Result<(), SysError> {
        // EIP-2200: a call left with no more than the stipend may not write.
        if self.limit.saturating_sub(self.used) <= self.params.call_stipend() {
            self.used = self.limit;
            return Err(SysError::OutOfGas);
        }
        // `true`: Istanbul's net metering, which every Tally chain runs
        // (the executor's spec is Osaka, `crate::SPEC`).
        self.meter(self.params.sstore_static_gas())?;
        self.load_account(address)?;
        let write = self
            .journal
            .sstore(address, slot, value)
            .map_err(|e| SysError::State(e.to_string()))?;
        self.meter(
            self.params
                .sstore_dynamic_gas(true, &write.data, write.is_cold),
        )?;
        self.refund = self
            .refund
            .saturating_add(self.params.sstore_refund(true, &write.data));
        Ok(())
    }

    fn emit(&mut self, address: Address, topics: Vec<B256>, data: Bytes) -> Result<(), SysError> {
        let bytes = u64::try_from(data.len()).unwrap_or(u64::MAX);
        let topic_count = u64::try_from(topics.len()).unwrap_or(u64::MAX);
        self.meter(
            gas::LOG
                .saturating_add(gas::LOG_TOPIC.saturating_mul(topic_count))
                .saturating_add(gas::LOG_BYTE.saturating_mul(bytes)),
        )?;
        self.journal.log(Log {
            address,
            data: LogData::new_unchecked(topics, data),
        });
        Ok(())
    }

    fn ensure_account(&mut self, address: Address) -> Result<(), SysError> {
        let account = self
            .journal
            .load_account_with_code_mut(address)
            .map_err(|e| SysError::State(e.to_string()))?
            .data;
        if account.code().is_some_and(|c| !c.is_empty()) {
            return Ok(());
        }
        // Priced like the account creation of CREATE.
        drop(account);
        self.meter(gas::CREATE)?;
        let mut account = self
            .journal
            .load_account_with_code_mut(address)
            .map_err(|e| SysError::State(e.to_string()))?
            .data;
        account.set_code_and_hash_slow(Bytecode::new_raw(Bytes::from_static(&SYSTEM_CODE)));
        if account.nonce() == 0 {
            account.set_nonce(1);
        }
        Ok(())
    }

    fn charge(&mut self, gas: u64) -> Result<(), SysError> {
        self.meter(gas)
    }

    fn transfer_coin(&mut self, from: Address, to: Address, amount: U256) -> Result<(), SysError> {
        self.meter(gas::COIN_TRANSFER)?;
        match self
            .journal
            .transfer(from, to, amount)
            .map_err(|e| SysError::State(e.to_string()))?
        {
            None => Ok(()),
            Some(e) => Err(SysError::Revert(format!(
                "cannot move {amount} wei from {from} to {to}: {e:?}"
            ))),
        }
    }
}
