<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="de_DE">
<context>
    <name>Hermes::AddDialog</name>
    <message>
        <source>Add Downloads</source>
        <translation>Downloads hinzufügen</translation>
    </message>
    <message>
        <source>One URL per line, e.g. https://example.org/file.iso</source>
        <translation>Eine URL pro Zeile, z. B. https://example.org/datei.iso</translation>
    </message>
    <message>
        <source>URLs to download</source>
        <translation>Herunterzuladende URLs</translation>
    </message>
    <message>
        <source>From the server's answer or the URL</source>
        <translation>Aus der Antwort des Servers oder der URL</translation>
    </message>
    <message>
        <source>File name</source>
        <translation>Dateiname</translation>
    </message>
    <message>
        <source>Optional: 64 hexadecimal digits</source>
        <translation>Optional: 64 Hexadezimalziffern</translation>
    </message>
    <message>
        <source>Expected SHA-256</source>
        <translation>Erwartete SHA-256-Prüfsumme</translation>
    </message>
    <message>
        <source>Higher runs first</source>
        <translation>Höhere zuerst</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>Priorität</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>Hinzufügen</translation>
    </message>
    <message>
        <source>&amp;URLs:</source>
        <translation>&amp;URLs:</translation>
    </message>
    <message>
        <source>&amp;File name:</source>
        <translation>&amp;Dateiname:</translation>
    </message>
    <message>
        <source>&amp;SHA-256:</source>
        <translation>&amp;SHA-256:</translation>
    </message>
    <message>
        <source>&amp;Priority:</source>
        <translation>&amp;Priorität:</translation>
    </message>
    <message>
        <source>Not an http:// or https:// URL: %1</source>
        <translation>Keine http://- oder https://-URL: %1</translation>
    </message>
    <message>
        <source>The SHA-256 must be 64 hexadecimal digits.</source>
        <translation>Die SHA-256-Prüfsumme muss aus 64 Hexadezimalziffern bestehen.</translation>
    </message>
    <message>
        <source>Enter at least one URL.</source>
        <translation>Mindestens eine URL eingeben.</translation>
    </message>
    <message numerus="yes">
        <source>%n download(s) will be added.</source>
        <translation><numerusform>%n Download wird hinzugefügt.</numerusform><numerusform>%n Downloads werden hinzugefügt.</numerusform></translation>
    </message>
</context>
<context>
    <name>Hermes::ConnectionIndicator</name>
    <message>
        <source>Reconnect</source>
        <translation>Neu verbinden</translation>
    </message>
    <message>
        <source>Open a new connection now (and reload the list if needed)</source>
        <translation>Jetzt neu verbinden (und die Liste bei Bedarf neu laden)</translation>
    </message>
    <message>
        <source>Connection to the server</source>
        <translation>Verbindung zum Server</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>Verbunden</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Verbinde …</translation>
    </message>
    <message>
        <source>trying now</source>
        <translation>versuche jetzt</translation>
    </message>
    <message>
        <source>next try in %1 s</source>
        <translation>nächster Versuch in %1 s</translation>
    </message>
    <message>
        <source>Server busy (HTTP %1) — %2</source>
        <translation>Server ausgelastet (HTTP %1) – %2</translation>
    </message>
    <message>
        <source>Offline — retrying every %1 s, %2</source>
        <translation>Offline – neuer Versuch alle %1 s, %2</translation>
    </message>
    <message>
        <source>Reconnecting… (attempt %1 of %2), %3</source>
        <translation>Verbinde neu … (Versuch %1 von %2), %3</translation>
    </message>
    <message>
        <source>Reconnecting… (attempt %1), %2</source>
        <translation>Verbinde neu … (Versuch %1), %2</translation>
    </message>
    <message>
        <source>Disconnected: the API key was rejected</source>
        <translation>Getrennt: Der API-Schlüssel wurde abgelehnt</translation>
    </message>
    <message>
        <source>Disconnected: gave up after %1 attempts</source>
        <translation>Getrennt: nach %1 Versuchen aufgegeben</translation>
    </message>
    <message>
        <source>Disconnected: the server ended the stream</source>
        <translation>Getrennt: Der Server hat den Stream beendet</translation>
    </message>
    <message>
        <source>Disconnected: the connection failed</source>
        <translation>Getrennt: Die Verbindung ist fehlgeschlagen</translation>
    </message>
    <message>
        <source>Disconnected</source>
        <translation>Getrennt</translation>
    </message>
    <message>
        <source>Server: %1</source>
        <translation>Server: %1</translation>
    </message>
    <message>
        <source>Last event: %1</source>
        <translation>Letztes Ereignis: %1</translation>
    </message>
    <message>
        <source>none yet</source>
        <translation>noch keines</translation>
    </message>
    <message>
        <source>Heartbeat: every %1 s</source>
        <translation>Heartbeat: alle %1 s</translation>
    </message>
    <message>
        <source>Last error: %1</source>
        <translation>Letzter Fehler: %1</translation>
    </message>
    <message>
        <source>Disconnected: closed</source>
        <translation>Getrennt: geschlossen</translation>
    </message>
</context>
<context>
    <name>Hermes::DesktopNotifier</name>
    <message>
        <source>Show</source>
        <translation>Anzeigen</translation>
    </message>
</context>
<context>
    <name>Hermes::DetailsPane</name>
    <message>
        <source>Select a download to see its details.</source>
        <translation>Einen Download auswählen, um seine Details zu sehen.</translation>
    </message>
    <message>
        <source>Download details</source>
        <translation>Download-Details</translation>
    </message>
    <message>
        <source>URL:</source>
        <translation>URL:</translation>
    </message>
    <message>
        <source>File:</source>
        <translation>Datei:</translation>
    </message>
    <message>
        <source>Size:</source>
        <translation>Größe:</translation>
    </message>
    <message>
        <source>Status:</source>
        <translation>Status:</translation>
    </message>
    <message>
        <source>Error:</source>
        <translation>Fehler:</translation>
    </message>
    <message>
        <source>Attempts:</source>
        <translation>Versuche:</translation>
    </message>
    <message>
        <source>SHA-256:</source>
        <translation>SHA-256:</translation>
    </message>
    <message>
        <source>Priority:</source>
        <translation>Priorität:</translation>
    </message>
    <message>
        <source>In queue:</source>
        <translation>In der Warteschlange:</translation>
    </message>
    <message>
        <source>Added:</source>
        <translation>Hinzugefügt:</translation>
    </message>
    <message>
        <source>Completed on:</source>
        <translation>Fertig am:</translation>
    </message>
    <message>
        <source>Copy URL</source>
        <translation>URL kopieren</translation>
    </message>
    <message>
        <source>Copy the URL to the clipboard</source>
        <translation>Die URL in die Zwischenablage kopieren</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>unbekannt</translation>
    </message>
    <message>
        <source>none</source>
        <translation>keine</translation>
    </message>
    <message>
        <source>not checked</source>
        <translation>nicht geprüft</translation>
    </message>
    <message>
        <source>finished</source>
        <translation>abgeschlossen</translation>
    </message>
    <message>
        <source>not yet</source>
        <translation>noch nicht</translation>
    </message>
    <message>
        <source>Downloaded:</source>
        <translation>Heruntergeladen:</translation>
    </message>
    <message>
        <source>Note:</source>
        <translation>Hinweis:</translation>
    </message>
    <message>
        <source>all</source>
        <translation>alles</translation>
    </message>
    <message>
        <source>%1 (%2%)</source>
        <translation>%1 (%2 %)</translation>
    </message>
    <message>
        <source>%1 of at most %2</source>
        <translation>%1 von höchstens %2</translation>
    </message>
    <message>
        <source>never</source>
        <translation>nie</translation>
    </message>
</context>
<context>
    <name>Hermes::DownloadActions</name>
    <message>
        <source>&amp;Pause</source>
        <translation>&amp;Anhalten</translation>
    </message>
    <message>
        <source>&amp;Resume</source>
        <translation>&amp;Fortsetzen</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>A&amp;bbrechen</translation>
    </message>
    <message>
        <source>Re&amp;try</source>
        <translation>Erneut &amp;versuchen</translation>
    </message>
    <message>
        <source>Re&amp;move…</source>
        <translation>&amp;Entfernen …</translation>
    </message>
    <message>
        <source>Pause &amp;All</source>
        <translation>&amp;Alle anhalten</translation>
    </message>
    <message>
        <source>Resume A&amp;ll</source>
        <translation>A&amp;lle fortsetzen</translation>
    </message>
    <message>
        <source>Move to &amp;Top</source>
        <translation>An den &amp;Anfang</translation>
    </message>
    <message>
        <source>Move &amp;Up</source>
        <translation>Nach &amp;oben</translation>
    </message>
    <message>
        <source>Move &amp;Down</source>
        <translation>Nach &amp;unten</translation>
    </message>
    <message>
        <source>Move to &amp;Bottom</source>
        <translation>Ans &amp;Ende</translation>
    </message>
    <message>
        <source>&amp;Copy URL</source>
        <translation>URL &amp;kopieren</translation>
    </message>
    <message>
        <source>%1 of "%2" failed: %3</source>
        <translation>%1 von „%2“ fehlgeschlagen: %3</translation>
    </message>
    <message numerus="yes">
        <source>%1 of %n download(s) failed: %2</source>
        <translation><numerusform>%1 von %n Download fehlgeschlagen: %2</numerusform><numerusform>%1 von %n Downloads fehlgeschlagen: %2</numerusform></translation>
    </message>
    <message>
        <source>it no longer exists</source>
        <translation>er existiert nicht mehr</translation>
    </message>
    <message>
        <source>it is %1</source>
        <translation>er ist %1</translation>
    </message>
    <message>
        <source>%1 of all downloads failed: %2</source>
        <translation>%1 aller Downloads fehlgeschlagen: %2</translation>
    </message>
    <message>
        <source>The queue was not reordered: %1</source>
        <translation>Die Warteschlange wurde nicht umsortiert: %1</translation>
    </message>
    <message>
        <source>Remove "%1" from the list?</source>
        <translation>„%1“ aus der Liste entfernen?</translation>
    </message>
    <message numerus="yes">
        <source>Remove %n download(s) from the list?</source>
        <translation><numerusform>%n Download aus der Liste entfernen?</numerusform><numerusform>%n Downloads aus der Liste entfernen?</numerusform></translation>
    </message>
    <message>
        <source>Remove Downloads</source>
        <translation>Downloads entfernen</translation>
    </message>
    <message>
        <source>Remove, keep the files</source>
        <translation>Entfernen, Dateien behalten</translation>
    </message>
    <message>
        <source>Remove and delete the files</source>
        <translation>Entfernen und Dateien löschen</translation>
    </message>
    <message>
        <source>Remove failed: %1</source>
        <translation>Entfernen fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Pause or Resume</source>
        <translation>Anhalten oder Fortsetzen</translation>
    </message>
</context>
<context>
    <name>Hermes::DownloadListModel</name>
    <message>
        <source>Queued</source>
        <translation>Wartend</translation>
    </message>
    <message>
        <source>Downloading</source>
        <translation>Lädt herunter</translation>
    </message>
    <message>
        <source>Verifying</source>
        <translation>Wird geprüft</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>Angehalten</translation>
    </message>
    <message>
        <source>Completed</source>
        <translation>Fertig</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Abgebrochen</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>unbekannt</translation>
    </message>
    <message>
        <source>%1/s</source>
        <translation>%1/s</translation>
    </message>
    <message numerus="yes">
        <source>%Ln s</source>
        <comment>duration</comment>
        <translation><numerusform>%Ln Sek.</numerusform><numerusform>%Ln Sek.</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>%Ln min</source>
        <comment>duration</comment>
        <translation><numerusform>%Ln Min.</numerusform><numerusform>%Ln Min.</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>%Ln h</source>
        <comment>duration</comment>
        <translation><numerusform>%Ln Std.</numerusform><numerusform>%Ln Std.</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>%Ln d</source>
        <comment>duration</comment>
        <translation><numerusform>%Ln Tag</numerusform><numerusform>%Ln Tage</numerusform></translation>
    </message>
    <message>
        <source>%1 %2</source>
        <comment>duration: a larger unit, then a smaller one</comment>
        <translation>%1 %2</translation>
    </message>
    <message>
        <source>Unknown while not connected to the server</source>
        <translation>Unbekannt, solange keine Verbindung zum Server besteht</translation>
    </message>
    <message>
        <source>%1%</source>
        <translation>%1 %</translation>
    </message>
    <message>
        <source>Place in the queue</source>
        <translation>Platz in der Warteschlange</translation>
    </message>
    <message>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Größe</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>Fortschritt</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Download speed</source>
        <translation>Download-Geschwindigkeit</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>Geschw.</translation>
    </message>
    <message>
        <source>ETA</source>
        <translation>Restzeit</translation>
    </message>
    <message>
        <source>Priority</source>
        <translation>Priorität</translation>
    </message>
    <message>
        <source>Added</source>
        <translation>Hinzugefügt</translation>
    </message>
    <message>
        <source>Completed on</source>
        <translation>Fertig am</translation>
    </message>
    <message>
        <source>URL</source>
        <translation>URL</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>Waiting for a connection</source>
        <translation>Wartet auf eine Verbindung</translation>
    </message>
    <message>
        <source>Connecting</source>
        <translation>Verbindet</translation>
    </message>
    <message>
        <source>Stalled</source>
        <translation>Stockt</translation>
    </message>
    <message>
        <source>%1/%2</source>
        <translation>%1/%2</translation>
    </message>
    <message>
        <source>Retrying %1 in %2</source>
        <translation>Neuer Versuch %1 in %2</translation>
    </message>
    <message>
        <source>Retrying %1</source>
        <translation>Neuer Versuch %1</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>Downloaded</source>
        <translation>Heruntergeladen</translation>
    </message>
    <message>
        <source>Remaining</source>
        <translation>Verbleibend</translation>
    </message>
    <message>
        <source>Attempts made (of at most, when the server limits them)</source>
        <translation>Unternommene Versuche (von höchstens so vielen, wenn der Server sie begrenzt)</translation>
    </message>
    <message>
        <source>Attempts</source>
        <translation>Versuche</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>Fehler</translation>
    </message>
</context>
<context>
    <name>Hermes::FreeSpaceLabel</name>
    <message>
        <source>Free space on the server</source>
        <translation>Freier Speicher auf dem Server</translation>
    </message>
    <message>
        <source>Free: %1</source>
        <translation>Frei: %1</translation>
    </message>
    <message>
        <source>Free space in the server's download directory %1</source>
        <translation>Freier Speicher im Download-Verzeichnis des Servers %1</translation>
    </message>
</context>
<context>
    <name>Hermes::MainWindow</name>
    <message>
        <source>Hermes Monitor</source>
        <translation>Hermes Monitor</translation>
    </message>
    <message>
        <source>Downloads</source>
        <translation>Downloads</translation>
    </message>
    <message>
        <source>Filter by name or URL (Ctrl+F)</source>
        <translation>Nach Name oder URL filtern (Strg+F)</translation>
    </message>
    <message>
        <source>Filter</source>
        <translation>Filter</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>Details</translation>
    </message>
    <message>
        <source>Notifications</source>
        <translation>Benachrichtigungen</translation>
    </message>
    <message>
        <source>&amp;Add Downloads…</source>
        <translation>Downloads &amp;hinzufügen …</translation>
    </message>
    <message>
        <source>&amp;Paste URLs</source>
        <translation>URLs &amp;einfügen</translation>
    </message>
    <message>
        <source>Select &amp;All</source>
        <translation>&amp;Alles auswählen</translation>
    </message>
    <message>
        <source>&amp;Find…</source>
        <translation>&amp;Suchen …</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>&amp;Aktualisieren</translation>
    </message>
    <message>
        <source>&amp;Preferences…</source>
        <translation>&amp;Einstellungen …</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>&amp;About Hermes Monitor</source>
        <translation>Ü&amp;ber Hermes Monitor</translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation>Über &amp;Qt</translation>
    </message>
    <message>
        <source>&amp;Show/Hide Window</source>
        <translation>Fenster &amp;zeigen/verbergen</translation>
    </message>
    <message>
        <source>Queue</source>
        <translation>Warteschlange</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>&amp;Bearbeiten</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Ansicht</translation>
    </message>
    <message>
        <source>&amp;Columns</source>
        <translation>&amp;Spalten</translation>
    </message>
    <message>
        <source>&amp;Queue</source>
        <translation>&amp;Warteschlange</translation>
    </message>
    <message>
        <source>&amp;Settings</source>
        <translation>&amp;Einstellungen</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>Add Downloads</source>
        <translation>Downloads hinzufügen</translation>
    </message>
    <message>
        <source>%1 was not added: %2</source>
        <translation>%1 wurde nicht hinzugefügt: %2</translation>
    </message>
    <message>
        <source>Preferences</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <source>The API key was not saved: %1</source>
        <translation>Der API-Schlüssel wurde nicht gespeichert: %1</translation>
    </message>
    <message>
        <source>About Hermes Monitor</source>
        <translation>Über Hermes Monitor</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Hermes Monitor %1&lt;/h3&gt;&lt;p&gt;Watches and controls a Hermes download queue: live progress over Server-Sent Events, resumed exactly after every reconnect.&lt;/p&gt;&lt;p&gt;Server: %2&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Hermes Monitor %1&lt;/h3&gt;&lt;p&gt;Beobachtet und steuert eine Hermes-Download-Warteschlange: Fortschritt live über Server-Sent Events, nach jeder neuen Verbindung lückenlos fortgesetzt.&lt;/p&gt;&lt;p&gt;Server: %2&lt;/p&gt;</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>unbekannt</translation>
    </message>
    <message>
        <source>Downloading: %1 · Queued: %2 · Paused: %3 · Total speed: %4</source>
        <translation>Lädt: %1 · Wartend: %2 · Angehalten: %3 · Gesamtgeschwindigkeit: %4</translation>
    </message>
    <message>
        <source>Hermes Monitor — %1 down</source>
        <translation>Hermes Monitor – %1 herunter</translation>
    </message>
    <message>
        <source>The server rejected the API key. Enter the key it was started with.</source>
        <translation>Der Server hat den API-Schlüssel abgelehnt. Geben Sie den Schlüssel ein, mit dem er gestartet wurde.</translation>
    </message>
    <message>
        <source>Re&amp;connect</source>
        <translation>Neu &amp;verbinden</translation>
    </message>
    <message>
        <source>Show &amp;Details</source>
        <translation>&amp;Details anzeigen</translation>
    </message>
</context>
<context>
    <name>Hermes::MonitorSession</name>
    <message>
        <source>Cannot load the downloads: %1</source>
        <translation>Die Downloads können nicht geladen werden: %1</translation>
    </message>
</context>
<context>
    <name>Hermes::NotificationCenter</name>
    <message>
        <source>Notifications</source>
        <translation>Benachrichtigungen</translation>
    </message>
    <message>
        <source>Download completed</source>
        <translation>Download fertig</translation>
    </message>
    <message>
        <source>Download failed</source>
        <translation>Download fehlgeschlagen</translation>
    </message>
    <message>
        <source>Hermes</source>
        <translation>Hermes</translation>
    </message>
    <message numerus="yes">
        <source>%1 (and %n more)</source>
        <translation><numerusform>%1 (und %n weitere)</numerusform><numerusform>%1 (und %n weitere)</numerusform></translation>
    </message>
</context>
<context>
    <name>Hermes::SettingsDialog</name>
    <message>
        <source>A download completed</source>
        <translation>Ein Download ist fertig</translation>
    </message>
    <message>
        <source>A download failed</source>
        <translation>Ein Download ist fehlgeschlagen</translation>
    </message>
    <message>
        <source>Server notices (disk space, …)</source>
        <translation>Hinweise des Servers (Speicherplatz, …)</translation>
    </message>
    <message>
        <source>Preferences</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <source> ms</source>
        <translation> ms</translation>
    </message>
    <message>
        <source> s</source>
        <translation> s</translation>
    </message>
    <message>
        <source>never</source>
        <translation>nie</translation>
    </message>
    <message>
        <source>none</source>
        <translation>keine</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>Server</translation>
    </message>
    <message>
        <source>Server &amp;URL:</source>
        <translation>Server-&amp;URL:</translation>
    </message>
    <message>
        <source>API &amp;key:</source>
        <translation>API-&amp;Schlüssel:</translation>
    </message>
    <message>
        <source>&amp;First reconnect delay:</source>
        <translation>&amp;Erste Wartezeit vor neuer Verbindung:</translation>
    </message>
    <message>
        <source>&amp;Longest reconnect delay:</source>
        <translation>&amp;Längste Wartezeit vor neuer Verbindung:</translation>
    </message>
    <message>
        <source>&amp;Give up after (attempts):</source>
        <translation>&amp;Aufgeben nach (Versuchen):</translation>
    </message>
    <message>
        <source>Desktop notifications</source>
        <translation>Desktop-Benachrichtigungen</translation>
    </message>
    <message>
        <source>At most, per &amp;minute:</source>
        <translation>Höchstens pro &amp;Minute:</translation>
    </message>
    <message>
        <source>Minimising or closing the window keeps the monitor in the tray</source>
        <translation>Beim Minimieren oder Schließen des Fensters in der Kontrollleiste bleiben</translation>
    </message>
</context>
<context>
    <name>Hermes::StaleBanner</name>
    <message>
        <source>Retry now</source>
        <translation>Jetzt erneut versuchen</translation>
    </message>
    <message>
        <source>The list may be out of date</source>
        <translation>Die Liste ist möglicherweise veraltet</translation>
    </message>
    <message>
        <source>The list may be out of date: loading it failed (%1). %2</source>
        <translation>Die Liste ist möglicherweise veraltet: Laden fehlgeschlagen (%1). %2</translation>
    </message>
    <message>
        <source>Trying again in %1 s.</source>
        <translation>Neuer Versuch in %1 s.</translation>
    </message>
    <message>
        <source>Trying again now.</source>
        <translation>Neuer Versuch läuft.</translation>
    </message>
</context>
<context>
    <name>Hermes::StatusSidebar</name>
    <message>
        <source>Status filter</source>
        <translation>Statusfilter</translation>
    </message>
    <message>
        <source>All</source>
        <translation>Alle</translation>
    </message>
    <message>
        <source>Downloading</source>
        <translation>Lädt herunter</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>Wartend</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>Angehalten</translation>
    </message>
    <message>
        <source>Completed</source>
        <translation>Fertig</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Abgebrochen</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
</context>
</TS>