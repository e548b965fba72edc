//! Payload dictionaries: decompressing stored payloads, the project's current dictionary, training
//! (see [`crate::store::payloads`] for why and the data).

macro_rules! payloads {
    () => {
        async fn decompress_payload(&self, payload: &[u8]) -> $crate::store::StoreResult<Vec<u8>> {
            use $crate::store::payloads;
            let Some(id) = payloads::frame_dictionary(payload) else {
                return payloads::decompress(payload, None);
            };
            let decoder = match self.payloads.decoder(id) {
                Some(decoder) => decoder,
                None => {
                    let row: Option<(Vec<u8>,)> =
                        sqlx::query_as("SELECT dictionary FROM payload_dictionaries WHERE id = $1")
                            .bind(i64::from(id))
                            .fetch_optional(self.reader())
                            .await?;
                    let (bytes,) = row.ok_or_else(|| {
                        $crate::store::StoreError::Corrupt(format!(
                            "event payload needs dictionary {id}, which is missing"
                        ))
                    })?;
                    self.payloads.add_decoder(id, &bytes)
                }
            };
            payloads::decompress(payload, Some(&decoder))
        }

        async fn payload_dictionary(
            &self,
            project_id: i64,
        ) -> $crate::store::StoreResult<Option<std::sync::Arc<$crate::store::payloads::PayloadDictionary>>> {
            if let Some(cached) = self.payloads.encoder(project_id) {
                return Ok(cached);
            }
            let generation = self.payloads.generation();
            let row: Option<($crate::store::Millis, Vec<u8>)> = sqlx::query_as(
                "SELECT created_at, dictionary FROM payload_dictionaries WHERE project_id = $1 \
                 ORDER BY created_at DESC, id DESC LIMIT 1",
            )
            .bind(project_id)
            .fetch_optional(self.reader())
            .await?;
            let dictionary = row
                .and_then(|(created_at, bytes)| $crate::store::payloads::PayloadDictionary::new(&bytes, created_at))
                .map(std::sync::Arc::new);
            self.payloads.set_encoder(project_id, dictionary.clone(), generation);
            Ok(dictionary)
        }

        async fn train_payload_dictionary(&self, project_id: i64) -> $crate::store::StoreResult<Option<u32>> {
            use $crate::store::payloads::{self, TRAIN_SAMPLES};
            // In a block so that the codec's counter is reset whatever happens.
            let trained: $crate::store::StoreResult<Option<u32>> = async {
                // Bounded sample: the newest events, skipping the rare huge ones (at most ~64 MiB read).
                let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
                    "SELECT payload FROM events WHERE project_id = $1 AND length(payload) <= 65536 \
                     ORDER BY id DESC LIMIT $2",
                )
                .bind(project_id)
                .bind(TRAIN_SAMPLES)
                .fetch_all(self.reader())
                .await?;
                let mut samples = Vec::with_capacity(rows.len());
                for (payload,) in &rows {
                    samples.push(self.decompress_payload(payload).await?);
                }
                let Ok(Some(dictionary)) = tokio::task::spawn_blocking(move || payloads::train(&samples)).await else {
                    return Ok(None);
                };
                let Some(id) = payloads::dictionary_id(&dictionary) else { return Ok(None) };
                sqlx::query(
                    "INSERT INTO payload_dictionaries (id, project_id, created_at, dictionary) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                )
                .bind(i64::from(id))
                .bind(project_id)
                .bind($crate::store::Millis::now())
                .bind(&dictionary)
                .execute(self.writer())
                .await?;
                // zstd derives the id from the content: a clash with another project's dictionary
                // leaves that one in place, and this project keeps compressing without.
                let (owner,): (i64,) = sqlx::query_as("SELECT project_id FROM payload_dictionaries WHERE id = $1")
                    .bind(i64::from(id))
                    .fetch_one(self.writer())
                    .await?;
                Ok((owner == project_id).then_some(id))
            }
            .await;
            self.payloads.trained(project_id);
            trained
        }
    };
}

pub(crate) use payloads;
