//! Payload dictionaries: decompressing stored payloads, the project's current dictionary, training
//! (see [`crate::store::payloads`] for why and the data).

macro_rules! payloads {
    () => {
        async fn decompress_payload(&self, payload: &[u8]) -> $crate::store::StoreResult<Vec<u8>> {
            use $crate::store::payloads;
            match payloads::frame_dictionary(payload) {
                None => payloads::decompress(payload, None),
                Some(id) => payloads::decompress(payload, Some(&*self.decoder(id).await?)),
            }
        }

        async fn payload_dictionary(
            &self,
            project_id: i64,
        ) -> $crate::store::StoreResult<Option<std::sync::Arc<$crate::store::payloads::PayloadDictionary>>> {
            if let Some(cached) = self.payloads.encoder(project_id) {
                return Ok(cached);
            }
            let generation = self.payloads.generation();
            let newest: Option<(i64, $crate::store::Millis)> = sqlx::query_as(
                "SELECT id, created_at FROM payload_dictionaries WHERE project_id = $1 \
                 ORDER BY created_at DESC, id DESC LIMIT 1",
            )
            .bind(project_id)
            .fetch_optional(self.reader())
            .await?;
            // Preparing a dictionary costs ~1 MiB and a millisecond: keep the one this node has when it
            // is still the newest, so that a TTL expiry under load does not prepare it once per request.
            let held = self.payloads.held_encoder(project_id);
            let dictionary = match (newest, held) {
                (None, _) => None,
                (Some((id, _)), Some(held)) if i64::from(held.id) == id => Some(held),
                (Some((id, created_at)), _) => {
                    let bytes: Option<(Vec<u8>,)> =
                        sqlx::query_as("SELECT dictionary FROM payload_dictionaries WHERE id = $1")
                            .bind(id)
                            .fetch_optional(self.reader())
                            .await?;
                    bytes
                        .and_then(|(bytes,)| $crate::store::payloads::PayloadDictionary::new(&bytes, created_at))
                        .map(std::sync::Arc::new)
                }
            };
            self.payloads.set_encoder(project_id, dictionary.clone(), generation);
            Ok(dictionary)
        }

        async fn train_payload_dictionary(&self, project_id: i64) -> $crate::store::StoreResult<Option<u32>> {
            use $crate::store::payloads::{self, TRAIN_SAMPLES};
            // In a block so that the codec's counter is reset whatever happens.
            let trained: $crate::store::StoreResult<Option<std::sync::Arc<payloads::PayloadDictionary>>> = async {
                // The newest events, skipping the rare huge ones.
                let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
                    "SELECT payload FROM events WHERE project_id = $1 AND length(payload) <= 65536 \
                     ORDER BY id DESC LIMIT $2",
                )
                .bind(project_id)
                .bind(TRAIN_SAMPLES)
                .fetch_all(self.reader())
                .await?;
                // The dictionaries they were written with (a retraining reads events of the last one).
                let mut decoders = std::collections::HashMap::new();
                for (payload,) in &rows {
                    if let Some(id) = payloads::frame_dictionary(payload)
                        && !decoders.contains_key(&id)
                    {
                        decoders.insert(id, self.decoder(id).await?);
                    }
                }
                let payloads: Vec<Vec<u8>> = rows.into_iter().map(|(payload,)| payload).collect();
                let Some(dictionary) = payloads::train_in_background(payloads, decoders).await else {
                    return Ok(None);
                };
                let now = $crate::store::Millis::now();
                let Some(prepared) = payloads::PayloadDictionary::new(&dictionary, now) else { return Ok(None) };
                let id = prepared.id;
                sqlx::query(
                    "INSERT INTO payload_dictionaries (id, project_id, created_at, dictionary) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                )
                .bind(i64::from(id))
                .bind(project_id)
                .bind(now)
                .bind(&dictionary)
                .execute(self.writer())
                .await?;
                // zstd derives the id from the content: a clash with another project's dictionary
                // leaves that one in place, and this project keeps compressing without.
                let (owner,): (i64,) = sqlx::query_as("SELECT project_id FROM payload_dictionaries WHERE id = $1")
                    .bind(i64::from(id))
                    .fetch_one(self.writer())
                    .await?;
                Ok((owner == project_id).then(|| std::sync::Arc::new(prepared)))
            }
            .await;
            // This node compresses with the new dictionary from the next event on; others within
            // ENCODER_TTL.
            self.payloads.trained(project_id, trained.as_ref().ok().and_then(Clone::clone));
            trained.map(|dictionary| dictionary.map(|d| d.id))
        }
    };
}

/// Inherent helpers of the payload operations, expanded beside each backend's `impl Backend`.
macro_rules! payload_fns {
    ($store:ty) => {
        impl $store {
            /// The decoder for dictionary `id`: cached, else loaded (dictionaries never change).
            async fn decoder(
                &self,
                id: u32,
            ) -> $crate::store::StoreResult<std::sync::Arc<zstd::dict::DecoderDictionary<'static>>> {
                if let Some(decoder) = self.payloads.decoder(id) {
                    return Ok(decoder);
                }
                let row: Option<(Vec<u8>,)> =
                    sqlx::query_as("SELECT dictionary FROM payload_dictionaries WHERE id = $1")
                        .bind(i64::from(id))
                        .fetch_optional(self.reader())
                        .await?;
                let (bytes,) = row.ok_or_else(|| {
                    $crate::store::StoreError::Corrupt(format!("event payload needs dictionary {id}, which is missing"))
                })?;
                Ok(self.payloads.add_decoder(id, &bytes))
            }
        }
    };
}

pub(crate) use {payload_fns, payloads};
