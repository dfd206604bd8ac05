<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="en">
<context>
    <name>Hermes::AddDialog</name>
    <message numerus="yes">
        <source>%n download(s) will be added.</source>
        <translation><numerusform>%n download will be added.</numerusform><numerusform>%n downloads will be added.</numerusform></translation>
    </message>
</context>
<context>
    <name>Hermes::DownloadActions</name>
    <message numerus="yes">
        <source>Remove %n download(s) from the list?</source>
        <translation><numerusform>Remove %n download from the list?</numerusform><numerusform>Remove %n downloads from the list?</numerusform></translation>
    </message>
</context>
<context>
    <name>Hermes::DownloadListModel</name>
    <message numerus="yes">
        <source>%Ln s</source>
        <comment>duration</comment>
        <translation><numerusform>%Ln s</numerusform><numerusform>%Ln s</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>%Ln min</source>
        <comment>duration</comment>
        <translation><numerusform>%Ln min</numerusform><numerusform>%Ln min</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>%Ln h</source>
        <comment>duration</comment>
        <translation><numerusform>%Ln h</numerusform><numerusform>%Ln h</numerusform></translation>
    </message>
    <message numerus="yes">
        <source>%Ln d</source>
        <comment>duration</comment>
        <translation><numerusform>%Ln d</numerusform><numerusform>%Ln d</numerusform></translation>
    </message>
</context>
<context>
    <name>Hermes::NotificationCenter</name>
    <message numerus="yes">
        <source>%1 (and %n more)</source>
        <translation><numerusform>%1 (and %n more)</numerusform><numerusform>%1 (and %n more)</numerusform></translation>
    </message>
</context>
</TS>