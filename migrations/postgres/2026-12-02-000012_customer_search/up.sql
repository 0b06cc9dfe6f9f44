-- Name search (issue #18): every word of a customer's first and last name, folded to
-- lower-case ASCII (ä = ae, ß = ss, accents dropped) and its Kölner Phonetik
-- (passgenau_domain::search), indexed for exact, prefix and sound lookups. Written with
-- the customer (store::customers); customers recorded before get theirs at start-up.
-- Byte order ("C") on PostgreSQL, so that a prefix is a range of the index.
CREATE TABLE customer_name_words (
    customer_id TEXT NOT NULL REFERENCES customers (id),
    part TEXT NOT NULL CHECK (part IN ('first', 'last')),
    word TEXT COLLATE "C" NOT NULL,
    sound TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (customer_id, part, word)
);
CREATE INDEX customer_name_words_word ON customer_name_words (word);
CREATE INDEX customer_name_words_sound ON customer_name_words (sound);
-- the probe of a further word's sound goes by customer, not along every such sound
CREATE INDEX customer_name_words_customer_sound ON customer_name_words (customer_id, sound);
