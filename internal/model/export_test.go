package model

// MetadataProp exposes metadataProp to the external tests.
var MetadataProp = metadataProp
