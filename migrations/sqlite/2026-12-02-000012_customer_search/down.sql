DROP TABLE customer_name_words;
