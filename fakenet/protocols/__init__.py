"""Sans-IO servers for the world's line protocols: bytes in, fakenet.sansio actions out."""
