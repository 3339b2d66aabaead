import { type Kysely, sql } from 'kysely';

/**
 * The crisis-line directory GetCrisisResources reads: per region its emergency number and its
 * services; region '' holds the international directories (for unknown regions, and after every
 * region's own). Seeded with well-established national lines; operators keep it current.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('crisis_regions')
    .addColumn('region_code', 'text', (c) => c.primaryKey().check(sql`region_code ~ '^([A-Z]{2})?$'`))
    .addColumn('emergency_number', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('crisis_resources')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('region_code', 'text', (c) => c.notNull().references('crisis_regions.region_code').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('phone', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('sms', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('sms_body', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('url', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('hours', 'text', (c) => c.notNull())
    .addColumn('always_open', 'boolean', (c) => c.notNull())
    .addColumn('languages', sql`text[]`, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('crisis_resources_region_idx').on('crisis_resources').column('region_code').execute();

  const regions: Array<[string, string]> = [
    ['', ''],
    ['GB', '999'],
    ['IE', '112'],
    ['US', '911'],
    ['CA', '911'],
    ['AU', '000'],
    ['DE', '112'],
  ];
  await db.insertInto('crisis_regions' as never).values(regions.map(([region_code, emergency_number]) => ({ region_code, emergency_number })) as never).execute();
  const resources = [
    { region_code: '', name: 'Find A Helpline', description: 'A directory of free, confidential crisis lines in more than 130 countries.', url: 'https://findahelpline.com', hours: '24/7', always_open: true, languages: ['en'] },
    { region_code: 'GB', name: 'Samaritans', description: 'Someone to talk to about anything that is troubling you, day or night.', phone: '116 123', url: 'https://www.samaritans.org', hours: '24/7', always_open: true, languages: ['en', 'cy'] },
    { region_code: 'GB', name: 'Shout', description: 'Text support for anyone in crisis.', sms: '85258', sms_body: 'SHOUT', url: 'https://giveusashout.org', hours: '24/7', always_open: true, languages: ['en'] },
    { region_code: 'IE', name: 'Samaritans Ireland', description: 'Someone to talk to about anything that is troubling you, day or night.', phone: '116 123', url: 'https://www.samaritans.org/ireland', hours: '24/7', always_open: true, languages: ['en', 'ga'] },
    { region_code: 'US', name: '988 Suicide & Crisis Lifeline', description: 'Call or text for free, confidential support in a suicidal, mental health or substance use crisis.', phone: '988', sms: '988', url: 'https://988lifeline.org', hours: '24/7', always_open: true, languages: ['en', 'es'] },
    { region_code: 'CA', name: '9-8-8 Suicide Crisis Helpline', description: 'Call or text if you are thinking about suicide or worried about someone.', phone: '988', sms: '988', url: 'https://988.ca', hours: '24/7', always_open: true, languages: ['en', 'fr'] },
    { region_code: 'AU', name: 'Lifeline', description: 'Crisis support and suicide prevention for anyone in Australia.', phone: '13 11 14', url: 'https://www.lifeline.org.au', hours: '24/7', always_open: true, languages: ['en'] },
    { region_code: 'DE', name: 'TelefonSeelsorge', description: 'Anonyme Beratung am Telefon, rund um die Uhr.', phone: '0800 111 0 111', url: 'https://www.telefonseelsorge.de', hours: '24/7', always_open: true, languages: ['de'] },
  ];
  await db.insertInto('crisis_resources' as never).values(resources as never).execute();
}
