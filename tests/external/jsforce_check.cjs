// Hold the sandbox against jsforce 3, a client nobody here wrote.
// Usage: NODE_PATH=<dir with jsforce> NODE_EXTRA_CA_CERTS=<ca_cert> node jsforce_check.cjs '<sandbox JSON line>'
const jsforce = require("jsforce");
const info = JSON.parse(process.argv[2]);
(async () => {
  const conn = new jsforce.Connection({ loginUrl: info.login_url, version: "60.0",
    oauth2: { loginUrl: info.login_url, clientId: info.client_id, clientSecret: info.client_secret } });
  const who = await conn.login(info.username, info.password);
  const out = { org: who.organizationId };
  out.identity = (await conn.identity()).username;
  const q = await conn.query("SELECT Id, Name, Owner.Name FROM Account ORDER BY Name").run({ autoFetch: true, maxFetch: 100000 });
  out.accounts = q.records.length;
  out.count = (await conn.query("SELECT COUNT() FROM Contact")).totalSize;
  out.group = (await conn.query("SELECT Industry, COUNT(Id) n FROM Account GROUP BY Industry")).records.length;
  const d = await conn.sobject("Account").describe();
  out.px_fields = d.fields.filter((f) => f.name.startsWith("PX_")).map((f) => f.name).sort();
  const created = await conn.sobject("Lead").create({ LastName: "Okafor", Company: "Beacon Labs", Status: "Open - Not Contacted" });
  out.created = created.success;
  await conn.sobject("Lead").update({ Id: created.id, Title: "CTO" });
  out.read_back = (await conn.sobject("Lead").retrieve(created.id)).Title;
  await conn.sobject("Lead").destroy(created.id);
  out.search = (await conn.search("FIND {password} RETURNING KnowledgeArticleVersion(Id, Title WHERE PublishStatus='Online' AND Language='en_US')")).searchRecords.length;
  out.limits = (await conn.limits()).DailyApiRequests.Max;
  try { await conn.query("SELECT Bogus FROM Account"); } catch (e) { out.error = e.errorCode; }
  const saved = { accessToken: conn.accessToken, instanceUrl: conn.instanceUrl, version: "60.0" };
  await conn.logout();  // revokes the access token at the OAuth server
  try { await new jsforce.Connection(saved).query("SELECT Id FROM Account LIMIT 1"); }
  catch (e) { out.after_revoke = e.errorCode || e.name; }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error("FAILED", e.name, e.message); process.exit(1); });
