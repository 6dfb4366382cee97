SET time_zone = '+00:00';
SELECT HEX(CAST(id AS CHAR)) AS id,
 HEX(CAST(ti AS CHAR)) AS ti, HEX(CAST(tu AS CHAR)) AS tu, HEX(CAST(si AS CHAR)) AS si,
 HEX(CAST(mi AS CHAR)) AS mi, HEX(CAST(mu AS CHAR)) AS mu, HEX(CAST(bi AS CHAR)) AS bi,
 HEX(CAST(bu AS CHAR)) AS bu, HEX(CAST(f AS CHAR)) AS f, HEX(CAST(d AS CHAR)) AS d,
 HEX(CAST(dec1 AS CHAR)) AS dec1, HEX(CAST(dec2 AS CHAR)) AS dec2, HEX(CAST(dec3 AS CHAR)) AS dec3,
 HEX(CAST(y AS CHAR)) AS y, HEX(CAST(dt AS CHAR)) AS dt, HEX(CAST(tm AS CHAR)) AS tm,
 HEX(CAST(tm6 AS CHAR)) AS tm6, HEX(CAST(tm3 AS CHAR)) AS tm3, HEX(CAST(dtm AS CHAR)) AS dtm,
 HEX(CAST(dtm6 AS CHAR)) AS dtm6, HEX(CAST(ts AS CHAR)) AS ts,
 HEX(CONVERT(vc USING utf8mb4)) AS vc, HEX(vb) AS bin_vb, HEX(CONVERT(c USING utf8mb4)) AS c,
 HEX(CONVERT(c4 USING utf8mb4)) AS c4, HEX(bn) AS bin_bn, HEX(CAST(e AS CHAR)) AS e,
 HEX(CAST(s AS CHAR)) AS s, HEX(CAST(b1 + 0 AS CHAR)) AS b1, HEX(CAST(b10 + 0 AS CHAR)) AS b10,
 HEX(CAST(b64 + 0 AS CHAR)) AS b64, HEX(tb) AS bin_tb, HEX(bl) AS bin_bl, HEX(mb) AS bin_mb,
 HEX(CONVERT(tt USING utf8mb4)) AS tt, HEX(CONVERT(lt USING utf8mb4)) AS lt,
 HEX(CONVERT(j USING utf8mb4)) AS j
FROM t.alltypes ORDER BY id;
